//! The Python bindings: the extension module `apscheduler._core`.
//!
//! Each trigger class here is the native base of the Python class of the same name in
//! `apscheduler.triggers`: it stores the attributes the reference's trigger has and
//! computes `get_next_fire_time` with the core; the Python class adds the constructor
//! logic that must stay patchable (`get_localzone`, `datetime.now`), pickling, `str` and
//! `repr`. `MemoryJobStore` is the native base of the job store of that name, and
//! `ThreadPool` the queue and worker loop under `ThreadPoolExecutor`;
//! `CoroutineRun` and `CoroutineReports` run and report `AsyncIOExecutor`'s coroutine jobs.

mod add_job;
mod add_job_entry;
mod asyncio_executor;
mod calendarinterval;
mod callable_check;
mod combining;
mod common;
mod coroutine_run;
mod cron;
mod date;
mod datetime_layout;
mod datetimes;
mod dict_lookups;
mod dormant_jobs;
mod due_runs;
mod executor;
mod function_fields;
mod gc_pause;
mod interval;
mod job_ids;
mod job_reports;
mod jobstores;
mod report;
mod python_locks;
mod run;
mod slots;
mod stored_jobs_gc;
mod timer;
mod version_tags;
mod zones;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<cron::PyCronTrigger>()?;
    module.add_class::<interval::PyIntervalTrigger>()?;
    module.add_class::<calendarinterval::PyCalendarIntervalTrigger>()?;
    module.add_class::<date::PyDateTrigger>()?;
    module.add_class::<jobstores::PyMemoryJobStore>()?;
    module.add_class::<executor::PyThreadPool>()?;
    module.add_class::<executor::PyThreadPoolWorker>()?;
    module.add_class::<coroutine_run::PyCoroutineRun>()?;
    module.add_class::<asyncio_executor::PyCoroutineReports>()?;
    module.add_function(wrap_pyfunction!(cron::parse_field, module)?)?;
    module.add_function(wrap_pyfunction!(cron::expression_next_value, module)?)?;
    module.add_function(wrap_pyfunction!(combining::and_next_fire_time, module)?)?;
    add_job_entry::add_to(module)?;
    module.add_function(wrap_pyfunction!(add_job::store_pending_jobs, module)?)?;
    module.add_function(wrap_pyfunction!(job_ids::new_job_id, module)?)?;
    module.add_function(wrap_pyfunction!(job_ids::forget_job_ids, module)?)?;
    module.add_function(wrap_pyfunction!(job_reports::report_jobs_added, module)?)?;
    module.add_function(wrap_pyfunction!(job_reports::report_jobs_removed, module)?)?;
    module.add_function(wrap_pyfunction!(due_runs::collect_due_runs, module)?)?;
    module.add_function(wrap_pyfunction!(due_runs::collect_due_slice, module)?)?;
    module.add_function(wrap_pyfunction!(asyncio_executor::submit_coroutine_runs, module)?)?;
    module.add_function(wrap_pyfunction!(timer::tighten_timer_slack, module)?)?;
    module.add_function(wrap_pyfunction!(timer::spin_for, module)?)?;
    Ok(())
}
