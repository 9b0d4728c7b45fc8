//! Panic hook: one FATAL record with the panic message, its `file:line`, the thread and a
//! backtrace when enabled, carrying the invocation keys when the panic happened inside an
//! invocation (the record flushes the invocation's debug buffer like any FATAL record).

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

/// Installs the panic hook once per process, chaining the hook that was set before (which
/// still prints to stderr). Called by [`init`](crate::init) and by the Lambda integration.
pub fn install_panic_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic inside the logger itself must not recurse into the hook.
            let reentered = IN_HOOK.try_with(|f| f.replace(true)).unwrap_or(true);
            if !reentered {
                log_panic(info);
                let _ = IN_HOOK.try_with(|f| f.set(false));
            }
            previous(info);
        }));
    });
}

fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic with a non-string payload");
    let location = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let thread_name = thread.name().unwrap_or("<unnamed>");
    let force = crate::layer::with_layer(|l| l.shared.cfg.backtraces).unwrap_or(false);
    let backtrace = crate::errors::capture_text(force);
    tracing::error!(
        target: "lookout_logger::panic",
        __lookout_fatal = true,
        __lookout_panic = true,
        __lookout_location = location.as_str(),
        __lookout_backtrace = backtrace.as_str(),
        thread = thread_name,
        "{message}"
    );
    // The FATAL record already flushed the buffer unless flush-on-error is off; a panic
    // is always a reason to see it.
    crate::invocation::flush_buffer();
}
