"""The network verbs (core: lifecycle/apply.rs, ops.rs, plan_live.rs, connect.rs) against the
ARM test double the suite starts (tests/arm-double): awaitables, their `_sync` twins, progress
events, errors with status/code/request id, Ctrl-C, and a forked child.

Never Azure: the double listens on 127.0.0.1 with a throwaway CA.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import dsvmpool

from conftest import double_binary

PASSWORD = "Py-Pa55-w0rd-never-shown"

SPEC = """
name = "{name}"
location = "westeurope"
resource_group = "rg-{name}"

[capacity]
min = 0
max = 10
initial = 2

[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
password = {{ env = "PY_ADMIN_PASSWORD" }}

[storage]
kind = "azure_files_smb"
share = {{ name = "workspace", quota_gib = 100 }}
credential = "account_key"

[autoscale.scale_to_zero]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"
time_zone = "UTC"
min = 1
"""


@dataclass
class Double:
    proc: subprocess.Popen[str]
    info: dict[str, Any]

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace the double's fault script (its control endpoint)."""
        ctx = ssl.create_default_context(cafile=self.info["ca_pem_path"])
        req = urllib.request.Request(
            self.info["control_url"] + "faults",
            data=json.dumps(rules).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            assert r.status in (200, 204)

    def conn(self, **extra: Any) -> dict[str, Any]:
        return {
            "credential": "env",
            "subscription_id": self.info["subscription_id"],
            "management_url": self.info["management_url"],
            "authority_host": self.info["token_authority_url"],
            "ca_file": self.info["ca_pem_path"],
            "poll_interval": 0.02,
            **extra,
        }


def start_double(time_scale: float) -> Double:
    binary = double_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("the ARM test double is not built (set DSVMPOOL_ARM_DOUBLE)")
        pytest.skip("the ARM test double is not built (set DSVMPOOL_ARM_DOUBLE)")
    proc = subprocess.Popen(
        [str(binary), "--time-scale", str(time_scale), "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return Double(proc, json.loads(proc.stdout.readline()))


def stop_double(d: Double) -> None:
    assert d.proc.stdin is not None
    d.proc.stdin.close()
    d.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def double() -> Iterator[Double]:
    d = start_double(0.001)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AZURE_TENANT_ID", d.info["tenant_id"])
        mp.setenv("AZURE_CLIENT_ID", d.info["client_id"])
        mp.setenv("AZURE_CLIENT_SECRET", d.info["client_secret"])
        mp.setenv("PY_ADMIN_PASSWORD", PASSWORD)
        yield d
    stop_double(d)


def pool(name: str) -> dsvmpool.Pool:
    return dsvmpool.Pool.from_toml(SPEC.format(name=name))


def no_secret(*things: object) -> None:
    for t in things:
        text = json.dumps(t, default=str) if isinstance(t, (dict, list)) else str(t)
        assert PASSWORD not in text


def test_the_whole_lifecycle_awaited(double: Double) -> None:
    p = pool("pyasync")
    events: list[dict[str, Any]] = []
    conn = double.conn(progress=events.append)

    async def flow() -> None:
        created = await p.deploy(**conn)
        assert created["action"] == "created" and created["state"] == "Succeeded"
        assert created["instance_count"] == 2
        assert created["outputs"]["jupyterhub_url"].startswith("https://")
        status = await p.status(**conn)
        assert isinstance(status, dsvmpool.Status)
        assert status.deployed and not status.stopped and status.power == {"running": 2}
        assert len(status.instances) == 2
        assert "<table>" in status._repr_html_() and "pyasync" in str(status)
        scaled = await p.scale(5, **conn)
        assert scaled["to"] == 5 and scaled["changed"]
        assert len((await p.status(**conn)).instances) == 5
        stopped = await p.stop(**conn)
        assert stopped["autoscale_disabled"] and len(stopped["deallocated"]) == 5
        assert (await p.status(**conn)).stopped
        started = await p.start(**conn)
        assert started["autoscale_enabled"] and len(started["started"]) == 5
        live = await p.plan_live(**conn)
        assert isinstance(live, dsvmpool.LivePlan) and live.no_changes
        assert live.plan.pool == "pyasync" and "pyasync" in str(live)
        assert (await p.deploy(**conn))["action"] == "unchanged"
        preview = await p.destroy_preview(**conn)
        assert preview["delete_group"] and preview["resource_group"] == "rg-pyasync"
        destroyed = await p.destroy(**conn)
        assert destroyed["deleted"]
        assert not (await p.status(**conn)).deployed
        no_secret(created, status.to_dict(), str(status), live.to_dict(), events)

    asyncio.run(flow())
    kinds = {e["event"] for e in events}
    assert {"step", "resource"} <= kinds
    assert any(e["event"] == "step" and e["step"] == "render" for e in events)


def test_sync_twins(double: Double) -> None:
    p = pool("pysync")
    conn = double.conn()
    assert p.deploy_sync(**conn)["action"] == "created"
    status = p.status_sync(**conn)
    assert isinstance(status, dsvmpool.Status) and status.deployed
    assert status.to_dict()["pool"] == "pysync"
    assert p.scale_sync(3, **conn)["to"] == 3
    assert p.stop_sync(**conn)["autoscale_disabled"]
    assert p.start_sync(**conn)["autoscale_enabled"]
    assert p.plan_live_sync(**conn).no_changes
    assert p.deploy_sync(force=True, **conn)["action"] == "updated"
    assert p.destroy_preview_sync(**conn)["delete_group"]
    assert p.destroy_sync(**conn)["deleted"]


def test_awaitables_run_concurrently(double: Double) -> None:
    p = pool("pyconcurrent")
    conn = double.conn()
    p.deploy_sync(**conn)

    async def many() -> list[dsvmpool.Status]:
        return list(await asyncio.gather(*(p.status(**conn) for _ in range(8))))

    statuses = asyncio.run(many())
    assert [len(s.instances) for s in statuses] == [2] * 8
    p.destroy_sync(**conn)


def test_not_deployed_is_a_lookup_error(double: Double) -> None:
    with pytest.raises(dsvmpool.NotFoundError) as info:
        pool("pynever").scale_sync(3, **double.conn())
    err = info.value
    assert isinstance(err, LookupError) and isinstance(err, dsvmpool.AzureError)
    assert err.kind == "NOT_FOUND"


def test_http_errors_carry_status_code_and_request_id(double: Double) -> None:
    p = pool("pyhttp")
    conn = double.conn()
    p.deploy_sync(**conn)
    double.faults(
        [
            {
                "method": "GET",
                "path": "*/virtualMachineScaleSets/pyhttp-vmss",
                "times": 0,
                "action": {"kind": "error", "status": 400, "code": "SomethingBroke", "message": "no"},
            }
        ]
    )
    try:
        with pytest.raises(dsvmpool.AzureError) as info:
            p.status_sync(**conn)
    finally:
        double.faults([])
    err = info.value
    assert type(err) is dsvmpool.AzureError and err.kind == "AZURE"
    assert err.status == 400 and err.code == "SomethingBroke"
    assert err.request_id and err.request_id in str(err)
    assert err.operation and "pyhttp-vmss" in err.operation
    back = pickle.loads(pickle.dumps(err))
    assert (back.status, back.code, back.request_id) == (err.status, err.code, err.request_id)
    p.destroy_sync(**conn)


def test_throttling_beyond_the_retry_budget(double: Double) -> None:
    p = pool("pythrottle")
    conn = double.conn()
    p.deploy_sync(**conn)
    events: list[dict[str, Any]] = []
    double.faults(
        [
            {
                "method": "GET",
                "path": "*/virtualMachineScaleSets/pythrottle-vmss",
                "times": 0,
                "action": {"kind": "throttle", "retry_after_secs": 1},
            }
        ]
    )
    try:
        with pytest.raises(dsvmpool.ThrottledError) as info:
            p.status_sync(**double.conn(progress=events.append))
    finally:
        double.faults([])
    assert info.value.status == 429 and isinstance(info.value, dsvmpool.AzureError)
    assert any(e["event"] == "client" for e in events), "the retries were reported"
    p.destroy_sync(**conn)


def test_a_wrong_secret_is_an_auth_error(double: Double, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret")

    async def go() -> None:
        await pool("pyauth").status(**double.conn())

    with pytest.raises(dsvmpool.AuthError) as info:
        asyncio.run(go())
    assert isinstance(info.value, PermissionError)
    assert "not-the-secret" not in str(info.value)


def test_connection_arguments_are_checked(double: Double) -> None:
    p = pool("pyargs")
    with pytest.raises(TypeError, match='unexpected keyword argument "credentials"'):
        p.status_sync(credentials="env")  # type: ignore[call-arg]
    with pytest.raises(dsvmpool.ValidationError):
        p.status_sync(credential="password-in-a-file")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll_interval"):
        p.status_sync(**double.conn(poll_interval=-1))
    with pytest.raises(TypeError, match="callable"):
        p.status_sync(**double.conn(progress="print"))


def test_a_failing_progress_callback_does_not_stop_the_command(
    double: Double, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def boom(event: dict[str, Any]) -> None:
        raise RuntimeError("callback broke")

    p = pool("pycallback")
    assert p.deploy_sync(**double.conn(progress=boom))["action"] == "created"
    assert seen and all(isinstance(e, RuntimeError) for e in seen)
    p.destroy_sync(**double.conn())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_can_use_the_network_verbs(double: Double) -> None:
    p = pool("pyfork")
    conn = double.conn()
    p.deploy_sync(**conn)  # the parent's runtime is running now
    pid = os.fork()
    if pid == 0:  # the child: only this thread survived the fork
        code = 1
        try:
            signal.alarm(30)
            code = 0 if p.status_sync(**conn).deployed else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert p.status_sync(**conn).deployed  # and the parent still works
    p.destroy_sync(**conn)


def test_a_blocking_call_is_interruptible(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (here SIGALRM's handler) interrupts a `_sync` call that is waiting on the
    service: the deploy takes simulated minutes in real time."""
    slow = start_double(1.0)
    try:
        monkeypatch.setenv("AZURE_TENANT_ID", slow.info["tenant_id"])
        monkeypatch.setenv("AZURE_CLIENT_ID", slow.info["client_id"])
        monkeypatch.setenv("AZURE_CLIENT_SECRET", slow.info["client_secret"])
        monkeypatch.setenv("PY_ADMIN_PASSWORD", PASSWORD)

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            with pytest.raises(KeyboardInterrupt):
                pool("pyslow").deploy_sync(**slow.conn(poll_interval=0.2))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    finally:
        stop_double(slow)


SESSIONS_SPEC = """
name = "{name}"
location = "westeurope"
resource_group = "rg-{name}"

[capacity]
min = 0
max = 10
initial = 1

[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]

[storage]
kind = "azure_files_smb"
credential = "account_key"

[autoscale.sessions]
target_per_vm = 8
"""


def test_publish_sessions_reaches_the_scale_set(double: Double) -> None:
    import time

    p = dsvmpool.Pool.from_toml(SESSIONS_SPEC.format(name="pysess"))
    conn = double.conn(metrics_url=double.info["metrics_url"])
    p.deploy_sync(**conn)
    now = int(time.time())
    out = p.publish_sessions_sync(5, 2, now, **conn)
    assert out["active"] == 5 and out["waiting"] == 2
    assert [(m["metric"], m["value"]) for m in out["metrics"]] == [("Sessions", 7), ("WaitingSessions", 2)]
    assert "/providers/Microsoft.Compute/virtualMachineScaleSets/" in out["resource_id"]
    assert out["time"].endswith(":00Z") and all(m["request_id"] for m in out["metrics"])
    async def publish() -> dict[str, Any]:
        return await p.publish_sessions(1, **conn)

    awaited = asyncio.run(publish())
    assert awaited["waiting"] == 0 and awaited["metrics"][0]["value"] == 1
    # a pool that does not scale on sessions is refused, naming the field
    with pytest.raises(dsvmpool.ValidationError) as e:
        pool("pynosess").publish_sessions_sync(1, **conn)
    assert "autoscale.sessions" in str(e.value)
    p.destroy_sync(**conn)
