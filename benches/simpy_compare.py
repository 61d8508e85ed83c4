#!/usr/bin/env python3
"""The same pool model in SimPy, run on the same trace as `dsvmpool simulate`: checks that the
two agree (instance hours, served / refused / killed sessions, waits) and reports the speed
ratio. Benchmark only; not shipped.

Model (mirrors core/src/sim/engine.rs and core/src/autoscale/engine.rs, policy `cpu`):
  * working hours Mon-Fri start-end in the spec's time zone: profile {min 2, max M, default 2};
    outside: {0, M, 0}; each a recurring profile running until the other starts;
  * rules: average Percentage CPU over 10 min (1-min grain) > 70 -> +2, < 25 -> -1, cooldown 5 min,
    any-out / all-in, flapping estimate on scale-in, default capacity on missing metrics;
  * autoscale every 60 s; boot 300 s; removed instances billed 60 s more; users give up after
    900 s; SourceIP placement running[fnv1a64(user) % n]; NewestVM scale-in kills sessions;
  * CPU of an instance = 0.02 + sum of its sessions' CPU, capped at 100 %.

Usage:
  python3 benches/simpy_compare.py --dsvmpool target/release/dsvmpool [--users 200 --days 365]
"""

import argparse
import bisect
import csv
import heapq
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import simpy

WINDOWS_TZ = {"UTC": "UTC", "W. Europe Standard Time": "Europe/Berlin",
              "GMT Standard Time": "Europe/London", "Eastern Standard Time": "America/New_York",
              "Pacific Standard Time": "America/Los_Angeles"}

SPEC = """
name = "team"
location = "westeurope"
resource_group = "rg-team"
[access]
ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
source_cidrs = ["203.0.113.0/24"]
[capacity]
max = {max}
[autoscale.scale_to_zero]
min = 2
start = "{start}"
end = "{end}"
time_zone = "{tz}"
"""

END, BOOT, GONE, ARRIVE, GIVEUP, TICK = range(6)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


class At(simpy.events.Event):
    """An event at now + delay with an explicit same-time order (kind)."""

    def __init__(self, env, delay, kind, fn):
        super().__init__(env)
        self._ok = True
        self._value = None
        self.callbacks.append(lambda _ev: fn())
        env.schedule(self, kind, delay)


class Schedule:
    """Two recurring profiles: work (start on work days) and off (end on work days)."""

    def __init__(self, tz, start, end, days=(0, 1, 2, 3, 4)):
        self.tz = ZoneInfo(tz)
        self.start = tuple(map(int, start.split(":")))
        self.end = tuple(map(int, end.split(":")))
        self.days = days

    def starts_around(self, t):
        local = datetime.fromtimestamp(t, self.tz).date()
        out = []
        for d in range(-8, 9):
            day = local + timedelta(days=d)
            if day.weekday() not in self.days:
                continue
            for hm, name in ((self.start, "work"), (self.end, "off")):
                naive = datetime(day.year, day.month, day.day, hm[0], hm[1])
                out.append((int(naive.replace(tzinfo=self.tz).timestamp()), name))
        out.sort()
        return out

    def active(self, t):
        """(profile, until)."""
        starts = self.starts_around(t)
        past = [s for s in starts if s[0] <= t]
        future = [s[0] for s in starts if s[0] > t]
        return past[-1][1], (future[0] if future else None)


class Pool:
    def __init__(self, env, sessions, sched, max_n, start, end):
        self.env = env
        self.s = sessions
        self.sched = sched
        self.max = max_n
        self.start, self.end = start, end
        self.insts = []  # dicts: id, created, removed, sessions(set), cpu
        self.alive = []
        self.running = []
        self.state = ["pending"] * len(sessions)
        self.hash = [fnv1a64(x[0]) for x in sessions]
        self.waiting = deque()
        self.active = 0
        self.cpu = deque()  # (minute, count, sum)
        self.last_action = None
        self.profile = None
        self.until = None
        self.waits = []
        self.refused = self.killed = 0
        self.scale_outs = self.scale_ins = 0

    # --- sessions -------------------------------------------------------------------------
    def place(self, i):
        env = self.env
        n = len(self.running)
        k = self.running[self.hash[i] % n]
        inst = self.insts[k]
        self.state[i] = ("active", k)
        inst["sessions"].append(i)
        inst["cpu"] += self.s[i][3]
        self.active += 1
        self.waits.append(env.now - self.s[i][1])
        At(env, self.s[i][2], END, lambda: self.end_session(i))

    def end_session(self, i):
        st = self.state[i]
        if isinstance(st, tuple):
            inst = self.insts[st[1]]
            inst["sessions"].remove(i)
            inst["cpu"] -= self.s[i][3]
            if not inst["sessions"]:
                inst["cpu"] = 0.02
            self.active -= 1
            self.state[i] = "done"

    def arrive(self, i):
        if not self.running:
            self.state[i] = "waiting"
            self.waiting.append(i)
            At(self.env, 900, GIVEUP, lambda: self.give_up(i))
        else:
            self.place(i)

    def give_up(self, i):
        if self.state[i] == "waiting":
            self.state[i] = "done"
            self.waiting.remove(i)
            self.refused += 1

    # --- instances ------------------------------------------------------------------------
    def create(self):
        k = len(self.insts)
        self.insts.append({"id": k, "created": self.env.now, "removed": None, "sessions": [], "cpu": 0.02})
        self.alive.append(k)
        At(self.env, 300, BOOT, lambda: self.booted(k))

    def booted(self, k):
        if self.insts[k]["removed"] is not None:
            return
        bisect.insort(self.running, k)
        while self.waiting:
            self.place(self.waiting.popleft())

    def scale_to(self, target):
        cur = len(self.alive)
        if target > cur:
            for _ in range(target - cur):
                self.create()
            return
        for k in sorted(self.alive, reverse=True)[: cur - target]:
            inst = self.insts[k]
            for i in inst["sessions"]:
                self.state[i] = "done"
                self.active -= 1
                self.killed += 1
            inst["sessions"] = []
            inst["removed"] = self.env.now
            self.alive.remove(k)
            if k in self.running:
                self.running.remove(k)

    # --- autoscale ------------------------------------------------------------------------
    def cpu_value(self, now):
        first = math.ceil((now - 600) / 60) * 60
        end = (now // 60) * 60
        vals = [s / c for (m, c, s) in self.cpu if first <= m < end and c > 0]
        return sum(vals) / len(vals) if vals else None

    def decide(self, now):
        if self.until is None or now >= self.until:
            self.profile, self.until = self.sched.active(now)
        lo, hi, default = (2, self.max, 2) if self.profile == "work" else (0, self.max, 0)
        cur = len(self.alive)
        if cur < lo:
            return lo, 0
        if cur > hi:
            return hi, 0
        v = self.cpu_value(now)
        if v is None:
            return (min(default, hi), 0) if cur < default else (cur, 0)
        if self.last_action and now < self.last_action[0] + self.last_action[1]:
            return cur, 0
        if v > 70:
            n = min(cur + 2, hi)
            if n > cur:
                return n, 300
        if v < 25:
            n = max(cur - 1, lo)
            if n < cur:
                for m in range(n, cur):
                    flaps = m > 0 and v * cur / m > 70
                    if not flaps:
                        return m, 300
        return cur, 0

    def tick(self):
        now = self.env.now
        if now % 60 == 0 and self.running:
            total = sum(min(self.insts[k]["cpu"], 1.0) * 100 for k in self.running)
            self.cpu.append((now - 60, len(self.running), total))
            while self.cpu and self.cpu[0][0] < now - 60 - 1320:
                self.cpu.popleft()
        n, cooldown = self.decide(now)
        if n != len(self.alive):
            if n > len(self.alive):
                self.scale_outs += 1
            else:
                self.scale_ins += 1
            if cooldown:
                self.last_action = (now, cooldown)
            self.scale_to(n)

    def instance_hours(self):
        total = 0.0
        for inst in self.insts:
            a = max(inst["created"], self.start)
            b = min(self.end if inst["removed"] is None else inst["removed"] + 60, self.end)
            if b > a:
                total += (b - a) / 3600
        return total


def simpy_run(sessions, sched, max_n):
    first = min(s[1] for s in sessions)
    last = max(s[1] + s[2] for s in sessions)
    start = first // 86400 * 86400
    end = (last + 86399) // 86400 * 86400
    env = simpy.Environment(initial_time=start)
    pool = Pool(env, sessions, sched, max_n, start, end)

    def ticker(env):
        t = start // 60 * 60 + 60
        while t <= end:
            yield At(env, t - env.now, TICK, pool.tick)
            t += 60

    def arrivals(env):
        for i, s in enumerate(sessions):
            if s[1] > env.now:
                yield At(env, s[1] - env.now, ARRIVE, lambda i=i: pool.arrive(i))
            else:
                pool.arrive(i)

    env.process(ticker(env))
    env.process(arrivals(env))
    env.run(until=end + 1)
    waits = sorted(pool.waits)

    def pct(p):
        if not waits:
            return 0.0
        r = max(1, min(len(waits), math.ceil(p / 100 * len(waits))))
        return float(waits[r - 1])

    return {
        "instance_hours": pool.instance_hours(),
        "served": len(waits),
        "refused": pool.refused,
        "killed": pool.killed,
        "wait_p50_s": pct(50),
        "wait_p95_s": pct(95),
        "wait_max_s": float(waits[-1]) if waits else 0.0,
        "scale_outs": pool.scale_outs,
        "scale_ins": pool.scale_ins,
    }


def read_trace(path):
    out = []
    with open(path) as f:
        for row in csv.DictReader(f):
            t = int(datetime.strptime(row["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())
            out.append((row["user"], t, int(row["duration"]), float(row["cpu"])))
    out.sort(key=lambda s: (s[1], s[0]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsvmpool", required=True)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--max", type=int, default=60)
    ap.add_argument("--tz", default="W. Europe Standard Time")
    ap.add_argument("--start", default="08:00")
    ap.add_argument("--end", default="19:00")
    ap.add_argument("--json", help="write the comparison here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        spec = os.path.join(d, "pool.toml")
        with open(spec, "w") as f:
            f.write(SPEC.format(max=a.max, start=a.start, end=a.end, tz=a.tz))
        trace = os.path.join(d, "trace.csv")
        subprocess.run([a.dsvmpool, "simulate", spec, "--synthetic", str(a.users), "--days", str(a.days),
                        "--time-zone", a.tz, "--save-trace", trace, "--compare", "fixed", "-o", "json"],
                       check=True, capture_output=True)
        # Rust: the whole CLI run (process start, trace parse, simulation, JSON) in CPU time,
        # and the simulation alone (wall clock, reported by the CLI).
        c0 = os.times()
        out = subprocess.run([a.dsvmpool, "simulate", spec, "--trace", trace, "--compare", "cpu",
                              "--timeline-step", "1d", "-o", "json"], check=True, capture_output=True, text=True)
        c1 = os.times()
        rust_cli_cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
        doc = json.loads(out.stdout)
        rust, rust_sim_s = doc["reports"][0], doc["elapsed_s"]
        sessions = read_trace(trace)
        t0, p0 = time.perf_counter(), time.process_time()
        py = simpy_run(sessions, Schedule(WINDOWS_TZ.get(a.tz, a.tz), a.start, a.end), a.max)
        simpy_s, simpy_cpu = time.perf_counter() - t0, time.process_time() - p0
    keys = ["instance_hours", "served", "refused", "killed", "wait_p50_s", "wait_p95_s", "wait_max_s",
            "scale_outs", "scale_ins"]
    print(f"{len(sessions)} sessions, {a.users} users, {a.days} days, policy cpu")
    print(f"{'':16}{'dsvmpool':>14}{'SimPy':>14}")
    ok = True
    for k in keys:
        r, p = rust[k], py[k]
        tol = max(1e-6, 0.005 * max(abs(r), abs(p)))  # within rounding: 0.5 %
        same = abs(r - p) <= tol
        ok &= same
        print(f"{k:16}{r:>14.2f}{p:>14.2f}{'' if same else '   <-- differs'}")
    ratio = simpy_s / rust_sim_s
    cli_ratio = simpy_cpu / max(rust_cli_cpu, 1e-9)
    print(f"simulation alone (wall): dsvmpool {rust_sim_s:.3f} s, SimPy {simpy_s:.2f} s -> {ratio:.0f}x")
    print(f"CPU time, whole dsvmpool CLI run (start, CSV parse, JSON) vs SimPy simulation: "
          f"{rust_cli_cpu:.3f} s vs {simpy_cpu:.2f} s -> {cli_ratio:.0f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rust": {k: rust[k] for k in keys}, "simpy": py, "rust_sim_s": rust_sim_s,
                       "rust_cli_cpu_s": rust_cli_cpu, "simpy_s": simpy_s, "simpy_cpu_s": simpy_cpu,
                       "ratio": ratio, "cli_cpu_ratio": cli_ratio, "agree": ok}, f, indent=2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
