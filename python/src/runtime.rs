//! The one tokio runtime of the Python binding: built on first use, fork-safe.
//!
//! A forked child (`multiprocessing` with the `fork` start method, gunicorn or Jupyter kernels
//! that fork) inherits the parent's memory but none of its threads, so a runtime built by the
//! parent is dead in the child: a future spawned on it never runs. Each runtime is therefore
//! tagged with the pid of the process that built it; a process that finds a runtime of another
//! pid builds its own and abandons the inherited one. The inherited one is leaked on purpose —
//! dropping it would join worker threads that do not exist in the child. No lock is taken
//! anywhere (a lock held by another thread at fork time stays locked forever in the child):
//! the current runtime is published with one compare-and-swap, and a published runtime is never
//! freed, which is what makes handing out `&'static` references sound.
//!
//! Network methods use [`block_on`] for their sync form (the GIL is released while waiting and
//! Ctrl-C still interrupts) and [`future_into_py`] for their awaitable form.
#![allow(dead_code)] // the network methods of the lifecycle are its callers

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;
use tokio::runtime::Runtime;

struct Slot {
    pid: u32,
    runtime: Runtime,
}

static CURRENT: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());

fn build() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("dsvmpool-runtime")
        .build()
}

/// The runtime of this process, built on first use (and again in a forked child).
pub fn get() -> PyResult<&'static Runtime> {
    let pid = std::process::id();
    loop {
        let current = CURRENT.load(Ordering::Acquire);
        // SAFETY: a non-null pointer in CURRENT came from Box::into_raw below and is never
        // freed once published, so it is valid for the rest of the process.
        if let Some(slot) = unsafe { current.as_ref() }
            && slot.pid == pid
        {
            return Ok(&slot.runtime);
        }
        let runtime = build().map_err(|e| {
            PyRuntimeError::new_err(format!("dsvmpool: cannot start the async runtime: {e}"))
        })?;
        let fresh = Box::into_raw(Box::new(Slot { pid, runtime }));
        match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // The previous slot (if any) belonged to the parent process: leaked on purpose.
            // SAFETY: `fresh` is now published and never freed.
            Ok(_) => return Ok(unsafe { &(*fresh).runtime }),
            Err(_) => {
                // Another thread published first: ours was never visible to anyone.
                // SAFETY: `fresh` came from Box::into_raw just above and was not published.
                let lost = unsafe { Box::from_raw(fresh) };
                lost.runtime.shutdown_background();
            }
        }
    }
}

/// Run `fut` to completion on the runtime with the GIL released (the sync form of a network
/// method). Every 100 ms the GIL is taken back briefly to let Python handle signals, so Ctrl-C
/// raises `KeyboardInterrupt` and drops the future.
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = PyResult<T>> + Send,
    T: Send,
{
    let runtime = get()?;
    py.detach(|| {
        runtime.block_on(async move {
            tokio::pin!(fut);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    out = &mut fut => return out,
                    _ = tick.tick() => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

/// Marker type that plugs this module's runtime into `pyo3_async_runtimes::generic`.
pub struct DsvmpoolRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceLock<TaskLocals>;
}

impl GenericRuntime for DsvmpoolRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // `future_into_py` below calls `get()` first, so the runtime of this process exists
        // and `get()` cannot fail here.
        match get() {
            Ok(runtime) => runtime.spawn(fut),
            Err(e) => panic!("{e}"),
        }
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        match get() {
            Ok(runtime) => runtime.spawn_blocking(f),
            Err(e) => panic!("{e}"),
        }
    }
}

impl ContextExt for DsvmpoolRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceLock::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// The awaitable form of a network method: an `asyncio.Future` of the running event loop,
/// resolved from the runtime. Cancelling it drops the Rust future.
pub fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    get()?;
    pyo3_async_runtimes::generic::future_into_py::<DsvmpoolRuntime, _, T>(py, fut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn one_runtime_per_process() {
        let a = get().map(|r| r as *const Runtime).ok();
        let b = get().map(|r| r as *const Runtime).ok();
        assert!(a.is_some());
        assert_eq!(a, b);
        let v = get()
            .ok()
            .map(|rt| rt.block_on(async { tokio::spawn(async { 6 * 7 }).await.ok() }));
        assert_eq!(v, Some(Some(42)));
    }

    #[test]
    fn a_forked_child_gets_its_own_working_runtime() {
        let parent = get().map(|r| r as *const Runtime).ok();
        // Make sure the parent's workers are up, so the child inherits a started runtime.
        let _ = get().map(|rt| rt.block_on(async { tokio::spawn(async {}).await }));
        // SAFETY: the child only runs this module's lock-free code, then _exit()s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: a watchdog, so a hang fails the test instead of blocking it.
            unsafe { libc::alarm(10) };
            let ok = std::panic::catch_unwind(|| {
                let Ok(rt) = get() else { return false };
                let fresh = Some(rt as *const Runtime) != parent;
                let v = rt.block_on(async {
                    tokio::spawn(async {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        7
                    })
                    .await
                    .ok()
                });
                let again = get().map(|r| r as *const Runtime).ok() == Some(rt as *const Runtime);
                fresh && again && v == Some(7)
            })
            .unwrap_or(false);
            // SAFETY: leave the child without running the parent's exit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status:#x}"
        );
        // The parent still has its own runtime.
        assert_eq!(get().map(|r| r as *const Runtime).ok(), parent);
    }

    #[pyfunction]
    fn sleep_then_return(py: Python<'_>, ms: u64) -> PyResult<Bound<'_, PyAny>> {
        future_into_py(py, async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(ms)
        })
    }

    /// Resolves only when two calls are waiting at once: proves the awaitables run
    /// concurrently (the timeout only turns a hang into a failure).
    #[pyfunction]
    fn meet(py: Python<'_>, who: u64) -> PyResult<Bound<'_, PyAny>> {
        static BARRIER: OnceLock<tokio::sync::Barrier> = OnceLock::new();
        future_into_py(py, async move {
            let barrier = BARRIER.get_or_init(|| tokio::sync::Barrier::new(2));
            tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                .await
                .map_err(|_| PyRuntimeError::new_err("the two calls did not overlap"))?;
            Ok(who)
        })
    }

    #[pyfunction]
    fn fail_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        future_into_py::<_, ()>(py, async {
            Err(crate::error::to_py(dsvmpool::Error::Internal(
                "broken".into(),
            )))
        })
    }

    #[test]
    fn awaitables_and_blocking_calls_run_on_the_runtime() {
        Python::initialize();
        Python::attach(|py| {
            let sys = py.import("sys").unwrap();
            sys.getattr("path")
                .unwrap()
                .call_method1("insert", (0, env!("CARGO_MANIFEST_DIR")))
                .unwrap();
            sys.getattr("modules")
                .unwrap()
                .set_item("dsvmpool._native", pyo3::wrap_pymodule!(crate::_native)(py))
                .unwrap();
            let locals = pyo3::types::PyDict::new(py);
            locals
                .set_item(
                    "sleep_then_return",
                    wrap_pyfunction!(sleep_then_return, py).unwrap(),
                )
                .unwrap();
            locals
                .set_item("meet", wrap_pyfunction!(meet, py).unwrap())
                .unwrap();
            locals
                .set_item("fail_async", wrap_pyfunction!(fail_async, py).unwrap())
                .unwrap();
            let code = CString::new(
                "import asyncio, dsvmpool\n\
                 async def main():\n\
                 \x20   got = await asyncio.gather(sleep_then_return(20), sleep_then_return(10))\n\
                 \x20   assert got == [20, 10], got\n\
                 \x20   assert await asyncio.gather(meet(1), meet(2)) == [1, 2]\n\
                 \x20   try:\n\
                 \x20       await fail_async()\n\
                 \x20   except dsvmpool.InternalError as e:\n\
                 \x20       assert 'broken' in str(e)\n\
                 \x20   else:\n\
                 \x20       raise AssertionError('no error')\n\
                 \x20   task = asyncio.ensure_future(sleep_then_return(10_000))\n\
                 \x20   await asyncio.sleep(0.01)\n\
                 \x20   task.cancel()\n\
                 \x20   try:\n\
                 \x20       await task\n\
                 \x20   except asyncio.CancelledError:\n\
                 \x20       pass\n\
                 asyncio.run(main())\n",
            )
            .unwrap();
            if let Err(e) = py.run(&code, Some(&locals), None) {
                panic!("{e}");
            }
            let v = block_on(py, async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(5)
            });
            assert_eq!(v.ok(), Some(5));
        });
    }
}
