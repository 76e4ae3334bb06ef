//! `#[ffi_export]`: the one way a medseal C function is made.
//!
//! It wraps the body in the panic boundary (`medseal::ffi::boundary`), which turns a panic
//! into `MEDSEAL_PANIC` (or the return type's neutral value) instead of unwinding into C. A
//! test in the library fails if any `extern "C"` function is written without it.
//!
//! Fallible exports (those returning `medseal_result`) clear the thread-local last error on
//! entry. Exports that cannot fail (`_free`, accessors, version, result texts) leave it alone,
//! so that freeing handles or naming a code before reading the message does not lose it.
//!
//! Functions declared `-> ResultCode` write their body as returning `crate::error::Result<()>`
//! and use `?`; the boundary converts the error into its code and records its message.
//! `#[ffi_export(keep_last_error)]` is for the one function that reads the last error.
//!
//! The attribute does not add `#[no_mangle]` or `extern "C"`: they stay written in the source
//! so that cbindgen, which reads source without expanding macros, sees every export. The
//! attribute checks they are there.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn, ReturnType, Type};

#[proc_macro_attribute]
pub fn ffi_export(attr: TokenStream, item: TokenStream) -> TokenStream {
    let keep_last_error = match attr.to_string().as_str() {
        "" => false,
        "keep_last_error" => true,
        other => {
            return syn::Error::new(proc_macro2::Span::call_site(), format!("unknown ffi_export option `{other}`"))
                .to_compile_error()
                .into()
        }
    };
    let func = parse_macro_input!(item as ItemFn);
    let is_c_abi = func.sig.abi.as_ref().and_then(|abi| abi.name.as_ref()).is_some_and(|name| name.value() == "C");
    let has_no_mangle = func.attrs.iter().any(|a| a.path().is_ident("no_mangle"));
    if !is_c_abi || !has_no_mangle {
        return syn::Error::new_spanned(&func.sig, "an #[ffi_export] function must be `#[no_mangle] pub extern \"C\" fn`")
            .to_compile_error()
            .into();
    }
    let ItemFn { attrs, vis, sig, block } = func;
    let name = sig.ident.to_string();
    let body = match &sig.output {
        ReturnType::Type(_, ty) if is_result_code(ty) => quote! {
            crate::ffi::boundary::run_status(#name, #keep_last_error, move || -> crate::error::Result<()> #block)
        },
        ReturnType::Type(_, ty) => quote! {
            crate::ffi::boundary::run(#name, move || -> #ty #block)
        },
        ReturnType::Default => quote! {
            crate::ffi::boundary::run(#name, move || #block)
        },
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
    .into()
}

fn is_result_code(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ResultCode"))
}
