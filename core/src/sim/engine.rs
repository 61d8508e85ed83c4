//! The discrete-event simulation of a team using a pool.
//!
//! Time advances from event to event (session arrivals and ends, instances finishing boot or
//! deallocation) and, every `eval_interval`, the autoscale engine runs with the metrics of the
//! minutes before, as Azure Monitor's engine does. Within one second, events run in this order:
//! session ends, boots done, deallocations done, arrivals, give-ups, then the metric sample
//! and the autoscale run.
//!
//! * **Placement**: the load balancer's SourceIP affinity: a session goes to
//!   `running[hash(user) mod n]` over the running instances sorted by id (FNV-1a 64 of the
//!   user name). When the running set changes, the mapping changes for every user; a session
//!   whose user maps to another instance while it runs counts (once) as *affinity moved*: the
//!   user's next connection lands on an instance without their server.
//! * **Waiting**: with no running instance a session waits; it gets the first instance that
//!   finishes booting, or gives up after `patience` (*refused*). Its duration runs from when it
//!   is placed.
//! * **CPU**: an instance's `Percentage CPU` is `idle_cpu` plus the CPU of its sessions, capped
//!   at 100 %, sampled once a minute for every running instance (booting instances report
//!   nothing). The session metrics (active + waiting, and waiting) are published once a minute
//!   for the pool, including at zero instances.
//! * **Scale-out** creates instances that run after `boot_time`; **scale-in** removes the
//!   newest (or oldest, per `vm.scale_in_policy`) instances, killing their sessions unless
//!   `protect_busy` keeps instances with sessions (instance protection from scale-in);
//!   removed instances are billed for `deallocate_time` more.

use super::report::{DayStats, SimReport, TimelinePoint};
use super::trace::Trace;
use crate::autoscale::engine::{
    ActiveProfile, Engine, Input, LastAction, MetricKey, MetricPoint, Metrics, Outcome,
    points_between,
};
use crate::autoscale::model::{AutoscaleSettings, settings_from_pool};
use crate::pricing;
use crate::spec::{
    Autoscale, PoolSpec, Rule, ScaleInPolicy, ScaleToZero, SessionScaling, ValidPool,
};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};

/// Simulation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    /// Seconds between autoscale runs (Azure: 30-60 s). Default 60.
    pub eval_interval: i64,
    /// Seconds from scale-out to a usable instance. Default 300.
    pub boot_time: i64,
    /// Seconds a removed instance is still billed. Default 60.
    pub deallocate_time: i64,
    /// Seconds a user waits for an instance before giving up. Default 900.
    pub patience: i64,
    /// Instances with sessions are protected from scale-in. Default false.
    pub protect_busy: bool,
    /// CPU share of an idle instance (0-1). Default 0.02.
    pub idle_cpu: f64,
    /// Seconds between timeline points. Default 3600.
    pub timeline_step: i64,
    /// Start (Unix seconds). Default: midnight UTC before the first session.
    pub start: Option<i64>,
    /// End (Unix seconds). Default: midnight UTC after the last session ends.
    pub end: Option<i64>,
    /// Sessions per instance of the session-based policy when the spec has no
    /// `autoscale.sessions`. Default 4.
    pub session_target: u32,
    /// Instances of the fixed reference pool. Default: `capacity.max`.
    pub fixed_instances: Option<u32>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            eval_interval: 60,
            boot_time: 300,
            deallocate_time: 60,
            patience: 900,
            protect_busy: false,
            idle_cpu: 0.02,
            timeline_step: 3600,
            start: None,
            end: None,
            session_target: 4,
            fixed_instances: None,
        }
    }
}

/// A scaling policy to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The spec's own autoscale.
    Spec,
    /// The reference: a fixed pool, always on (`fixed_instances`, default `capacity.max`).
    Fixed,
    /// The obvious rules: CPU > 70 % → +2, CPU < 25 % → −1 (10-minute averages), the spec's
    /// working hours (default Monday-Friday 08:00-19:00) with a minimum of 2, zero outside.
    CpuOnly,
    /// The spec's schedule with session rules (`autoscale.sessions`, or `session_target`
    /// sessions per instance) instead of metric rules.
    Sessions,
}

impl Policy {
    /// Every policy, in comparison order.
    pub const ALL: [Policy; 4] = [
        Policy::Fixed,
        Policy::CpuOnly,
        Policy::Spec,
        Policy::Sessions,
    ];
    /// Short name (`spec`, `fixed`, `cpu`, `sessions`).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Spec => "spec",
            Policy::Fixed => "fixed",
            Policy::CpuOnly => "cpu",
            Policy::Sessions => "sessions",
        }
    }
    /// Parse a short name.
    pub fn from_name(s: &str) -> Option<Policy> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s.trim().to_ascii_lowercase())
    }

    /// Parse a short name given at field `path` (e.g. `policy`, `policies[1]`): an unknown name
    /// is a validation error at that path listing the names (used by the bindings).
    pub fn parse(name: &str, path: &str) -> crate::Result<Policy> {
        Self::from_name(name).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|p| p.name()).collect();
            crate::Error::invalid(
                crate::Diagnostic::error(path, "unknown-value", format!("unknown policy `{name}`"))
                    .hint(format!("one of {}", names.join(", "))),
            )
        })
    }
}

/// The resource id the simulation uses for the pool's scale set.
pub fn scale_set_id(pool: &ValidPool) -> String {
    let s = pool.spec();
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}",
        s.subscription
            .as_deref()
            .unwrap_or("00000000-0000-0000-0000-000000000000"),
        s.resource_group,
        crate::names::ResourceNames::for_pool(pool).scale_set
    )
}

fn revalidate(spec: PoolSpec) -> Result<ValidPool, String> {
    crate::spec::validate(&spec).map_err(|e| e.to_string())
}

/// The autoscale settings of a policy (`None` for the fixed pool), and the session metric names.
pub fn policy_settings(
    pool: &ValidPool,
    policy: Policy,
    opts: &SimOptions,
) -> Result<Option<(AutoscaleSettings, Option<SessionScaling>)>, String> {
    let id = scale_set_id(pool);
    let spec = pool.spec();
    match policy {
        Policy::Fixed => Ok(None),
        Policy::Spec => Ok(Some((
            settings_from_pool(pool, &id),
            spec.autoscale.sessions.clone(),
        ))),
        Policy::CpuOnly => {
            let mut s = spec.clone();
            let hours = spec.autoscale.scale_to_zero.clone().unwrap_or(ScaleToZero {
                days: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                    .map(String::from)
                    .to_vec(),
                start: "08:00".into(),
                end: "19:00".into(),
                time_zone: "UTC".into(),
                min: 2,
            });
            let rule = |op: &str, threshold: f64, action: &str, value: u32| -> Rule {
                serde_json::from_value(serde_json::json!({
                    "metric": "Percentage CPU", "operator": op, "threshold": threshold,
                    "action": action, "value": value, "window": "PT10M"
                }))
                .expect("a well-formed rule")
            };
            s.capacity.max = s.capacity.max.max(2);
            s.autoscale = Autoscale {
                enabled: true,
                profiles: vec![],
                scale_to_zero: Some(ScaleToZero { min: 2, ..hours }),
                rules: vec![
                    rule(">", 70.0, "increase", 2),
                    rule("<", 25.0, "decrease", 1),
                ],
                sessions: None,
            };
            let v = revalidate(s)?;
            Ok(Some((settings_from_pool(&v, &id), None)))
        }
        Policy::Sessions => {
            let mut s = spec.clone();
            let z = spec.autoscale.sessions.clone().unwrap_or(SessionScaling {
                target_per_vm: opts.session_target.max(1),
                metric: "Sessions".into(),
                waiting_metric: "WaitingSessions".into(),
                namespace: "dsvmpool".into(),
                resource_id: None,
                scale_in_below: None,
                scale_out_by: 1,
                wake_on_waiting: true,
                window: "PT5M".into(),
                cooldown: "PT5M".into(),
            });
            s.autoscale.enabled = true;
            s.autoscale.rules.clear();
            for p in &mut s.autoscale.profiles {
                p.rules.clear();
            }
            s.autoscale.sessions = Some(z.clone());
            let v = revalidate(s)?;
            Ok(Some((settings_from_pool(&v, &id), Some(z))))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    End = 0,
    Boot = 1,
    Gone = 2,
    Arrive = 3,
    GiveUp = 4,
}

#[derive(Clone, Copy, PartialEq)]
enum SState {
    Pending,
    Waiting,
    Active(usize),
    Done,
}

struct Inst {
    id: u32,
    created: i64,
    removed_at: Option<i64>,
    sessions: Vec<usize>,
    cpu: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Cpu,
    Sessions,
    Waiting,
    Missing,
}

/// One metric's recent per-minute points, oldest first, contiguous (a window is a slice).
#[derive(Default)]
struct Stream {
    points: Vec<MetricPoint>,
    head: usize,
}

impl Stream {
    fn push(&mut self, p: MetricPoint, keep: i64) {
        while self
            .points
            .get(self.head)
            .is_some_and(|f| f.time < p.time - keep)
        {
            self.head += 1;
        }
        if self.head >= 1024 && self.head * 2 >= self.points.len() {
            self.points.drain(..self.head);
            self.head = 0;
        }
        self.points.push(p);
    }

    fn live(&self) -> &[MetricPoint] {
        &self.points[self.head..]
    }
}

/// Rolling per-minute metrics of the simulated pool.
struct Store {
    keys: Vec<(MetricKey, Source)>,
    cpu: Stream,
    sessions: Stream,
    waiting: Stream,
    keep: i64,
    reads_cpu: bool,
    reads_sessions: bool,
    cache: std::cell::Cell<[(usize, Source); 8]>,
}

impl Metrics for Store {
    fn points(&self, metric: &MetricKey, from: i64, to: i64) -> &[MetricPoint] {
        // Only this simulation's engine reads the store, and its keys live (at fixed heap
        // addresses) as long as it does: remember them by address.
        let addr = metric as *const MetricKey as usize;
        let cached = self.cache.get();
        let src = match cached.iter().find(|(a, _)| *a == addr) {
            Some((_, s)) => *s,
            None => {
                let s = self
                    .keys
                    .iter()
                    .find(|(k, _)| k == metric)
                    .map_or(Source::Missing, |(_, s)| *s);
                let mut c = cached;
                c.rotate_right(1);
                c[0] = (addr, s);
                self.cache.set(c);
                s
            }
        };
        let stream = match src {
            Source::Cpu => &self.cpu,
            Source::Sessions => &self.sessions,
            Source::Waiting => &self.waiting,
            Source::Missing => return &[],
        };
        points_between(stream.live(), from, to)
    }
}

#[cfg(test)]
thread_local! {
    /// Tests turn the idle jump off to compare with the tick-by-tick loop.
    pub(super) static TICK_BY_TICK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn skip_idle() -> bool {
    #[cfg(test)]
    {
        !TICK_BY_TICK.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        true
    }
}

/// FNV-1a 64 of the user name: the SourceIP affinity hash.
pub fn affinity_hash(user: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Simulate the spec's own autoscale on a trace.
pub fn simulate(pool: &ValidPool, trace: &Trace, opts: &SimOptions) -> SimReport {
    simulate_policy(pool, Policy::Spec, trace, opts)
}

/// Simulate one policy on a trace.
pub fn simulate_policy(
    pool: &ValidPool,
    policy: Policy,
    trace: &Trace,
    opts: &SimOptions,
) -> SimReport {
    let mut warnings = Vec::new();
    let (engine, session_cfg, fixed) = match policy_settings(pool, policy, opts) {
        Ok(None) => (
            None,
            None,
            opts.fixed_instances.unwrap_or(pool.spec().capacity.max),
        ),
        Ok(Some((settings, z))) => match Engine::new(&settings) {
            Ok(e) if settings.enabled => (Some(e), z, 0),
            Ok(_) => {
                warnings
                    .push("autoscale is disabled: the pool stays at its initial capacity".into());
                (None, None, pool.initial_capacity())
            }
            Err(e) => {
                warnings.push(format!("autoscale settings rejected: {e}"));
                (None, None, pool.initial_capacity())
            }
        },
        Err(e) => {
            warnings.push(format!(
                "policy `{}` could not be built: {e}",
                policy.name()
            ));
            (None, None, pool.initial_capacity())
        }
    };
    let mut sim = Sim::new(pool, trace, opts, engine, session_cfg, fixed, warnings);
    sim.run();
    sim.report(policy.name())
}

/// Run several policies on the same trace.
pub fn compare(
    pool: &ValidPool,
    policies: &[Policy],
    trace: &Trace,
    opts: &SimOptions,
) -> Vec<SimReport> {
    policies
        .iter()
        .map(|p| simulate_policy(pool, *p, trace, opts))
        .collect()
}

struct Sim<'a> {
    trace: &'a Trace,
    opts: &'a SimOptions,
    engine: Option<Engine>,
    scale_in: ScaleInPolicy,
    hourly: Option<f64>,
    start: i64,
    end: i64,
    insts: Vec<Inst>,
    /// Indexes into `insts` of instances not removed (booting or running), by id.
    alive: Vec<usize>,
    /// Indexes of running instances, by id.
    running: Vec<usize>,
    state: Vec<SState>,
    placed_at: Vec<i64>,
    moved: Vec<bool>,
    hashes: Vec<u64>,
    waiting: VecDeque<usize>,
    heap: BinaryHeap<Reverse<(i64, Ev, usize)>>,
    next_arrival: usize,
    store: Store,
    active_sessions: usize,
    last_action: Option<LastAction>,
    profile: Option<ActiveProfile>,
    next_id: u32,
    // results
    waits: Vec<i64>,
    refused: u64,
    killed: u64,
    affinity_moved: u64,
    scale_outs: u64,
    scale_ins: u64,
    flapping: u64,
    flapping_occurred: u64,
    peak: u32,
    timeline: Vec<TimelinePoint>,
    day_sessions: Vec<(u64, u64, u64)>,
    warnings: Vec<String>,
}

impl<'a> Sim<'a> {
    fn new(
        pool: &ValidPool,
        trace: &'a Trace,
        opts: &'a SimOptions,
        engine: Option<Engine>,
        sessions: Option<SessionScaling>,
        fixed: u32,
        mut warnings: Vec<String>,
    ) -> Self {
        let spec = pool.spec();
        let (first, last) = trace.span().unwrap_or((0, 86_400));
        let start = opts.start.unwrap_or(first.div_euclid(86_400) * 86_400);
        let end = opts
            .end
            .unwrap_or((last + 86_399).div_euclid(86_400) * 86_400)
            .max(start + opts.eval_interval.max(1));
        let id = scale_set_id(pool).to_ascii_lowercase();
        let mut keys = Vec::new();
        let mut keep = 3600;
        if let Some(e) = &engine {
            keep = e.max_lookback() + 120;
            for k in e.metric_keys() {
                let src = if k.name == "percentage cpu"
                    && k.resource == id
                    && k.namespace == crate::autoscale::model::SCALE_SET_NAMESPACE
                {
                    Source::Cpu
                } else if let Some(z) = sessions
                    .as_ref()
                    .filter(|z| z.namespace.eq_ignore_ascii_case(&k.namespace))
                {
                    if k.name == z.metric.to_ascii_lowercase() {
                        Source::Sessions
                    } else if k.name == z.waiting_metric.to_ascii_lowercase() {
                        Source::Waiting
                    } else {
                        Source::Missing
                    }
                } else {
                    Source::Missing
                };
                if src == Source::Missing {
                    warnings.push(format!(
                        "metric `{}` ({}) is not simulated: rules on it see no data",
                        k.name, k.namespace
                    ));
                }
                keys.push((k, src));
            }
        }
        let price = pricing::instance_price(&spec.vm.size, spec.vm.os, spec.vm.priority);
        if price.is_none() {
            warnings.push(format!(
                "`{}` is not in the bundled price table: no cost",
                spec.vm.size
            ));
        }
        let n = trace.sessions.len();
        let mut sim = Sim {
            trace,
            opts,
            scale_in: spec.vm.scale_in_policy,
            hourly: price.map(|p| p.hourly),
            start,
            end,
            insts: Vec::new(),
            alive: Vec::new(),
            running: Vec::new(),
            state: vec![SState::Pending; n],
            placed_at: vec![0; n],
            moved: vec![false; n],
            hashes: trace
                .sessions
                .iter()
                .map(|s| affinity_hash(&s.user))
                .collect(),
            waiting: VecDeque::new(),
            heap: BinaryHeap::new(),
            next_arrival: trace.sessions.partition_point(|s| s.start < start),
            store: Store {
                keys,
                cpu: Stream::default(),
                sessions: Stream::default(),
                waiting: Stream::default(),
                keep,
                reads_cpu: false,
                reads_sessions: false,
                cache: std::cell::Cell::new([(0, Source::Missing); 8]),
            },
            active_sessions: 0,
            last_action: None,
            profile: None,
            next_id: 0,
            waits: Vec::with_capacity(n),
            refused: 0,
            killed: 0,
            affinity_moved: 0,
            scale_outs: 0,
            scale_ins: 0,
            flapping: 0,
            flapping_occurred: 0,
            peak: 0,
            timeline: Vec::new(),
            day_sessions: vec![(0, 0, 0); ((end - start) / 86_400 + 1) as usize],
            warnings,
            engine,
        };
        sim.store.reads_cpu = sim.store.keys.iter().any(|(_, s)| *s == Source::Cpu);
        sim.store.reads_sessions = sim
            .store
            .keys
            .iter()
            .any(|(_, s)| matches!(s, Source::Sessions | Source::Waiting));
        let initial = if sim.engine.is_some() {
            pool.initial_capacity()
        } else {
            fixed
        };
        for _ in 0..initial {
            sim.create(start, true);
        }
        sim
    }

    fn day(&self, t: i64) -> usize {
        (((t - self.start).max(0)) / 86_400) as usize
    }

    fn create(&mut self, now: i64, ready: bool) {
        let idx = self.insts.len();
        let ready_at = if ready {
            now
        } else {
            now + self.opts.boot_time
        };
        self.insts.push(Inst {
            id: self.next_id,
            created: now,
            removed_at: None,
            sessions: Vec::new(),
            cpu: self.opts.idle_cpu,
        });
        self.next_id += 1;
        self.alive.push(idx);
        if ready {
            self.running.push(idx);
        } else {
            self.heap.push(Reverse((ready_at, Ev::Boot, idx)));
        }
        self.peak = self.peak.max(self.alive.len() as u32);
    }

    /// After the running set changed, mark the active sessions whose user now maps to another
    /// instance (each session counts once).
    fn reshuffle(&mut self) {
        let n = self.running.len() as u64;
        if n == 0 {
            return;
        }
        for (pos, &i) in self.running.iter().enumerate() {
            for &s in &self.insts[i].sessions {
                if (self.hashes[s] % n) as usize != pos && !self.moved[s] {
                    self.moved[s] = true;
                    self.affinity_moved += 1;
                }
            }
        }
    }

    fn place(&mut self, s: usize, now: i64) {
        let n = self.running.len() as u64;
        let inst = self.running[(self.hashes[s] % n) as usize];
        let sess = &self.trace.sessions[s];
        self.state[s] = SState::Active(inst);
        self.placed_at[s] = now;
        self.insts[inst].sessions.push(s);
        self.insts[inst].cpu += sess.cpu;
        self.active_sessions += 1;
        self.waits.push(now - sess.start);
        self.heap.push(Reverse((now + sess.duration, Ev::End, s)));
    }

    fn end_session(&mut self, s: usize) {
        if let SState::Active(i) = self.state[s] {
            let inst = &mut self.insts[i];
            if let Some(p) = inst.sessions.iter().position(|x| *x == s) {
                inst.sessions.swap_remove(p);
            }
            inst.cpu -= self.trace.sessions[s].cpu;
            if inst.sessions.is_empty() {
                inst.cpu = self.opts.idle_cpu;
            }
            self.active_sessions -= 1;
            self.state[s] = SState::Done;
        }
    }

    fn event(&mut self, t: i64, ev: Ev, x: usize) {
        match ev {
            Ev::End => self.end_session(x),
            Ev::Boot => {
                if self.insts[x].removed_at.is_some() {
                    return;
                }
                let id = self.insts[x].id;
                let pos = self.running.partition_point(|&i| self.insts[i].id < id);
                self.running.insert(pos, x);
                self.reshuffle();
                while let Some(s) = self.waiting.pop_front() {
                    self.place(s, t);
                }
            }
            Ev::Gone => {}
            Ev::Arrive => {
                let d = self.day(t);
                if let Some(ds) = self.day_sessions.get_mut(d) {
                    ds.0 += 1;
                }
                if self.running.is_empty() {
                    self.state[x] = SState::Waiting;
                    self.waiting.push_back(x);
                    self.heap
                        .push(Reverse((t + self.opts.patience, Ev::GiveUp, x)));
                } else {
                    self.place(x, t);
                }
            }
            Ev::GiveUp => {
                if self.state[x] == SState::Waiting {
                    self.state[x] = SState::Done;
                    if let Some(p) = self.waiting.iter().position(|w| *w == x) {
                        self.waiting.remove(p);
                    }
                    self.refused += 1;
                    let d = self.day(self.trace.sessions[x].start);
                    if let Some(ds) = self.day_sessions.get_mut(d) {
                        ds.1 += 1;
                    }
                }
            }
        }
    }

    fn scale_to(&mut self, now: i64, target: u32) {
        let cur = self.alive.len() as u32;
        if target > cur {
            for _ in cur..target {
                self.create(now, false);
            }
            return;
        }
        let mut order: Vec<usize> = self.alive.clone();
        if self.scale_in != ScaleInPolicy::OldestVm {
            order.reverse(); // newest (highest id) first
        }
        let mut to_remove = (cur - target) as usize;
        let mut removed_running = false;
        for i in order {
            if to_remove == 0 {
                break;
            }
            if self.opts.protect_busy && !self.insts[i].sessions.is_empty() {
                continue;
            }
            to_remove -= 1;
            let sessions = std::mem::take(&mut self.insts[i].sessions);
            for s in sessions {
                self.state[s] = SState::Done;
                self.active_sessions -= 1;
                self.killed += 1;
                let d = self.day(now);
                if let Some(ds) = self.day_sessions.get_mut(d) {
                    ds.2 += 1;
                }
            }
            let inst = &mut self.insts[i];
            inst.cpu = self.opts.idle_cpu;
            inst.removed_at = Some(now);
            self.heap
                .push(Reverse((now + self.opts.deallocate_time, Ev::Gone, i)));
            self.alive.retain(|&a| a != i);
            if let Some(p) = self.running.iter().position(|&r| r == i) {
                self.running.remove(p);
                removed_running = true;
            }
        }
        if removed_running {
            self.reshuffle();
        }
    }

    fn sample(&mut self, tick: i64) {
        let minute = tick - 60;
        let keep = self.store.keep;
        if self.store.reads_cpu && !self.running.is_empty() {
            let mut p = MetricPoint {
                time: minute,
                count: 0,
                sum: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            };
            // (plain comparisons: a CPU value is never NaN)
            for &i in &self.running {
                let c = self.insts[i].cpu;
                let v = if c < 1.0 { c * 100.0 } else { 100.0 };
                p.count += 1;
                p.sum += v;
                if v < p.min {
                    p.min = v;
                }
                if v > p.max {
                    p.max = v;
                }
            }
            self.store.cpu.push(p, keep);
        }
        if !self.store.reads_sessions {
            return;
        }
        let waiting = self.waiting.len() as f64;
        self.store.sessions.push(
            MetricPoint::single(minute, self.active_sessions as f64 + waiting),
            keep,
        );
        self.store
            .waiting
            .push(MetricPoint::single(minute, waiting), keep);
    }

    /// Evaluate the autoscale setting at `tick`; true when it changed the count.
    fn autoscale(&mut self, tick: i64) -> bool {
        let Some(engine) = &self.engine else {
            return false;
        };
        if self
            .profile
            .is_none_or(|p| p.until.is_some_and(|u| tick >= u))
        {
            self.profile = engine.active_profile(tick);
        }
        let Some(p) = self.profile else {
            return false;
        };
        let d = engine.decide_in_profile(
            p.index,
            &Input {
                now: tick,
                current: self.alive.len() as u32,
                last_action: self.last_action,
                metrics: &self.store,
            },
        );
        match d.outcome {
            Outcome::Flapping { .. } => self.flapping += 1,
            Outcome::FlappingOccurred { .. } => self.flapping_occurred += 1,
            _ => {}
        }
        if d.changed() {
            if d.new_count > d.current {
                self.scale_outs += 1;
            } else {
                self.scale_ins += 1;
            }
            if d.cooldown > 0 {
                self.last_action = Some(LastAction {
                    time: tick,
                    cooldown: d.cooldown,
                });
            }
            self.scale_to(tick, d.new_count);
            return true;
        }
        false
    }

    /// Nothing runs or boots, no rule can see a metric point (the pool publishes none at zero
    /// instances: CPU-only settings) and the last evaluation changed nothing: until the next
    /// event, arrival or profile boundary every evaluation gives the same "no change", so the
    /// loop may jump there. (Session metrics exist at zero instances, so a pool reading them
    /// is never idle.)
    fn idle(&self, tick: i64) -> bool {
        self.engine.is_some()
            && self.alive.is_empty()
            && !self.store.reads_sessions
            && self
                .store
                .cpu
                .points
                .last()
                .is_none_or(|p| p.time < tick - self.store.keep)
    }

    fn record(&mut self, tick: i64) {
        let mut users = HashSet::new();
        for &i in &self.running {
            for &s in &self.insts[i].sessions {
                users.insert(self.hashes[s]);
            }
        }
        for &s in &self.waiting {
            users.insert(self.hashes[s]);
        }
        self.timeline.push(TimelinePoint {
            time: tick,
            instances: self.alive.len() as u32,
            running: self.running.len() as u32,
            active_sessions: self.active_sessions as u32,
            waiting: self.waiting.len() as u32,
            active_users: users.len() as u32,
        });
    }

    fn run(&mut self) {
        let step = self.opts.eval_interval.max(1);
        let mut tick = self.start.div_euclid(step) * step + step;
        let tl = self.opts.timeline_step.max(step);
        let mut next_record = tick.div_euclid(tl) * tl;
        if next_record < tick {
            next_record += tl;
        }
        while tick <= self.end {
            loop {
                let next_ev = self.heap.peek().map(|Reverse((t, e, _))| (*t, *e));
                let next_arr = self.trace.sessions.get(self.next_arrival).map(|s| s.start);
                let take_arrival = match (next_ev, next_arr) {
                    (_, Some(a)) if a > tick => false,
                    (None, Some(_)) => true,
                    (Some((t, e)), Some(a)) => (a, Ev::Arrive) < (t, e),
                    (_, None) => false,
                };
                if take_arrival {
                    let a = self.trace.sessions[self.next_arrival].start;
                    let i = self.next_arrival;
                    self.next_arrival += 1;
                    self.event(a, Ev::Arrive, i);
                    continue;
                }
                match next_ev {
                    Some((t, _)) if t <= tick => {
                        let Reverse((t, e, x)) = self.heap.pop().expect("peeked");
                        self.event(t, e, x);
                    }
                    _ => break,
                }
            }
            if tick % 60 == 0 {
                self.sample(tick);
            }
            let changed = self.autoscale(tick);
            if tick == next_record {
                self.record(tick);
                next_record += tl;
            } else if tick > next_record {
                // a step that does not divide the timeline step: the next multiple after `tick`
                next_record = (tick.div_euclid(tl) + 1) * tl;
            }
            let mut next = tick + step;
            if !changed && skip_idle() && self.idle(tick) {
                // Jump to the first tick at or after the next thing that can change the state;
                // the timeline keeps its points in between (the state is constant there).
                let until = [
                    self.heap.peek().map(|Reverse((t, _, _))| *t),
                    self.trace.sessions.get(self.next_arrival).map(|s| s.start),
                    self.profile.and_then(|p| p.until),
                    Some(self.end),
                ]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(self.end);
                if until > next {
                    let k = (until - tick + step - 1).div_euclid(step);
                    next = tick + k * step;
                    while next_record < next && next_record <= self.end {
                        if next_record > tick {
                            self.record(next_record);
                        }
                        next_record += tl;
                    }
                }
            }
            tick = next;
        }
    }

    fn report(self, policy: &str) -> SimReport {
        let days = self.day_sessions.len().saturating_sub(1).max(1);
        let mut day_hours = vec![0.0f64; days];
        let mut total = 0.0;
        for inst in &self.insts {
            let from = inst.created.max(self.start);
            let to = inst
                .removed_at
                .map_or(self.end, |r| r + self.opts.deallocate_time)
                .min(self.end);
            if to <= from {
                continue;
            }
            total += (to - from) as f64 / 3600.0;
            let mut t = from;
            while t < to {
                let d = ((t - self.start) / 86_400) as usize;
                let day_end = self.start + (d as i64 + 1) * 86_400;
                let upto = to.min(day_end);
                if let Some(h) = day_hours.get_mut(d) {
                    *h += (upto - t) as f64 / 3600.0;
                }
                t = upto;
            }
        }
        let daily = day_hours
            .iter()
            .enumerate()
            .map(|(d, h)| {
                let (sessions, refused, killed) =
                    self.day_sessions.get(d).copied().unwrap_or_default();
                DayStats {
                    date: super::report::date_of(self.start + d as i64 * 86_400),
                    instance_hours: *h,
                    cost: self.hourly.map(|p| p * h),
                    sessions,
                    refused,
                    killed,
                }
            })
            .collect();
        let unfinished = self.waiting.len() as u64;
        SimReport::build(super::report::Totals {
            policy: policy.to_string(),
            start: self.start,
            end: self.end,
            sessions: (self.next_arrival
                - self
                    .trace
                    .sessions
                    .partition_point(|s| s.start < self.start)) as u64,
            waits: self.waits,
            refused: self.refused,
            still_waiting: unfinished,
            killed: self.killed,
            affinity_moved: self.affinity_moved,
            instance_hours: total,
            hourly: self.hourly,
            peak_instances: self.peak,
            scale_outs: self.scale_outs,
            scale_ins: self.scale_ins,
            flapping: self.flapping,
            flapping_occurred: self.flapping_occurred,
            daily,
            timeline: self.timeline,
            warnings: self.warnings,
        })
    }
}
