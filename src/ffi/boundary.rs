//! The panic boundary every export runs inside, and the thread-local last error.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result, ResultCode};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the detail of the error just returned on this thread. During thread teardown the
/// thread-local may be gone: then the detail is dropped rather than panicking outside the
/// boundary (here, and in the other accessors, `try_with` never panics).
pub(crate) fn set_last_error(message: &str) {
    let _ = LAST_ERROR.try_with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(message);
    });
}

/// Runs `f` with `read` access to the last error message.
pub(crate) fn with_last_error<R>(read: impl FnOnce(&str) -> R) -> R {
    let mut read = Some(read);
    LAST_ERROR.try_with(|e| (read.take().expect("called once"))(&e.borrow())).unwrap_or_else(|_| (read.take().expect("not called yet"))(""))
}

/// What an export returns when it panicked: an error code, or a neutral value.
pub trait PanicValue {
    fn panic_value() -> Self;
}

impl PanicValue for () {
    fn panic_value() -> Self {}
}
impl PanicValue for ResultCode {
    fn panic_value() -> Self {
        ResultCode::MEDSEAL_PANIC
    }
}
impl PanicValue for u32 {
    fn panic_value() -> Self {
        0
    }
}
impl PanicValue for usize {
    fn panic_value() -> Self {
        0
    }
}
impl<T> PanicValue for *const T {
    fn panic_value() -> Self {
        std::ptr::null()
    }
}

fn enter(keep_last_error: bool) {
    if !keep_last_error {
        let _ = LAST_ERROR.try_with(|e| e.borrow_mut().clear());
    }
}

fn panicked(name: &str, payload: Box<dyn std::any::Any + Send>) {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_owned());
    set_last_error(&format!("internal error in {name}: {detail} (please report this bug)"));
}

/// Runs an export that cannot fail: the last error is kept (only a panic replaces it).
pub fn run<R: PanicValue>(name: &str, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        panicked(name, payload);
        R::panic_value()
    })
}

/// Runs an export that returns `medseal_result`: `Ok` is `MEDSEAL_OK`, an error becomes its
/// code with its message recorded. With `keep_last_error` (the reader of the last error) the
/// last error is never touched: not cleared on entry, not replaced by the reader's own error
/// or panic, which only give their code.
pub fn run_status(name: &str, keep_last_error: bool, f: impl FnOnce() -> Result<()>) -> ResultCode {
    enter(keep_last_error);
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => ResultCode::MEDSEAL_OK,
        Ok(Err(error)) if keep_last_error => error.code(),
        Ok(Err(error)) => fail(&error),
        Err(payload) => {
            if !keep_last_error {
                panicked(name, payload);
            }
            ResultCode::MEDSEAL_PANIC
        }
    }
}

fn fail(error: &Error) -> ResultCode {
    set_last_error(error.message());
    error.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_medseal_panic_with_a_message() {
        let code = run_status("medseal_test", false, || panic!("boom"));
        assert_eq!(code, ResultCode::MEDSEAL_PANIC);
        with_last_error(|m| assert!(m.contains("medseal_test") && m.contains("boom"), "{m}"));
        let ptr: *const u8 = run("medseal_test", || panic!("again"));
        assert!(ptr.is_null());
    }

    #[test]
    fn fallible_entry_clears_the_last_error_unless_asked_not_to() {
        set_last_error("old");
        let _: usize = run("infallible", || 0);
        with_last_error(|m| assert_eq!(m, "old"));
        assert_eq!(run_status("f", true, || Ok(())), ResultCode::MEDSEAL_OK);
        with_last_error(|m| assert_eq!(m, "old"));
        // The reader's own failures and panics leave the message too.
        let own = || Err(crate::error::err!(MEDSEAL_NULL_ARGUMENT, "new"));
        assert_eq!(run_status("f", true, own), ResultCode::MEDSEAL_NULL_ARGUMENT);
        with_last_error(|m| assert_eq!(m, "old"));
        assert_eq!(run_status("f", true, || panic!("boom")), ResultCode::MEDSEAL_PANIC);
        with_last_error(|m| assert_eq!(m, "old"));
        assert_eq!(run_status("f", false, || Ok(())), ResultCode::MEDSEAL_OK);
        with_last_error(|m| assert_eq!(m, ""));
    }
}
