//! Certificate functions (`CertThumbprint`, `CertNotAfter`, `IsCert`, ...) over
//! [`crate::engine::expr::cert::Certificate`].
//!
//! Invariants: the argument may be DER bytes or Base64 text of a certificate, as Microsoft
//! documents; data that is not a certificate is an error naming the function (except `IsCert`,
//! which answers False); NULL gives NULL.

use crate::engine::expr::cert::Certificate;
use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::functions::{Args, FnError};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

fn cert(a: &Args<'_>) -> Result<Option<Certificate>, FnError> {
    let Some(raw) = a.bytes(0)? else {
        return Ok(None);
    };
    Certificate::parse(&raw).map(Some).ok_or_else(|| {
        FnError::Message(
            "argument 1 (certificateRawData) is not an X.509 certificate (DER or Base64)".into(),
        )
    })
}

fn text(a: &Args<'_>, f: impl Fn(&Certificate) -> String) -> R {
    Ok(cert(a)?.map_or(Value::Null, |c| Value::Str(f(&c))))
}

fn date(a: &Args<'_>, f: impl Fn(&Certificate) -> (i32, u32, u32, u32, u32, u32)) -> R {
    let Some(c) = cert(a)? else {
        return Ok(Value::Null);
    };
    let (y, mo, d, h, mi, s) = f(&c);
    let year = u32::try_from(y)
        .map_err(|_| FnError::Message(format!("the certificate's year {y} is not a date")))?;
    DateTime::from_parts(year, mo, d, h, mi, s, 0)
        .map(Value::Date)
        .ok_or_else(|| {
            FnError::Message("the certificate's validity date is not a valid date".into())
        })
}

pub(super) fn extension_oids(a: &Args<'_>) -> R {
    Ok(cert(a)?.map_or(Value::Null, |c| {
        Value::multi(c.extension_oids().into_iter().map(Value::Str))
    }))
}

pub(super) fn format(a: &Args<'_>) -> R {
    text(a, |c| c.format().to_string())
}

pub(super) fn friendly_name(a: &Args<'_>) -> R {
    text(a, Certificate::friendly_name)
}

pub(super) fn hash_string(a: &Args<'_>) -> R {
    text(a, Certificate::hash_string)
}

pub(super) fn thumbprint(a: &Args<'_>) -> R {
    text(a, Certificate::thumbprint)
}

pub(super) fn issuer(a: &Args<'_>) -> R {
    text(a, Certificate::issuer)
}

pub(super) fn issuer_oid(a: &Args<'_>) -> R {
    text(a, Certificate::issuer_oid)
}

pub(super) fn key_algorithm(a: &Args<'_>) -> R {
    text(a, Certificate::key_algorithm)
}

pub(super) fn key_algorithm_params(a: &Args<'_>) -> R {
    text(a, Certificate::key_algorithm_params)
}

pub(super) fn name_info(a: &Args<'_>) -> R {
    let Some(c) = cert(a)? else {
        return Ok(Value::Null);
    };
    let name_type = a.req_text(1)?;
    let for_issuer = a.bool(2)?.unwrap_or(false);
    Ok(Value::Str(c.name_info(&name_type, for_issuer)))
}

pub(super) fn not_after(a: &Args<'_>) -> R {
    date(a, Certificate::not_after)
}

pub(super) fn not_before(a: &Args<'_>) -> R {
    date(a, Certificate::not_before)
}

pub(super) fn public_key_oid(a: &Args<'_>) -> R {
    text(a, Certificate::public_key_oid)
}

pub(super) fn public_key_parameters_oid(a: &Args<'_>) -> R {
    text(a, Certificate::public_key_parameters_oid)
}

pub(super) fn serial_number(a: &Args<'_>) -> R {
    text(a, Certificate::serial_number)
}

pub(super) fn signature_algorithm_oid(a: &Args<'_>) -> R {
    text(a, Certificate::signature_algorithm_oid)
}

pub(super) fn subject(a: &Args<'_>) -> R {
    text(a, Certificate::subject)
}

pub(super) fn subject_name_oid(a: &Args<'_>) -> R {
    text(a, Certificate::subject_name_oid)
}

pub(super) fn version(a: &Args<'_>) -> R {
    text(a, |c| c.version().to_string())
}

pub(super) fn is_cert(a: &Args<'_>) -> R {
    Ok(match a.bytes(0) {
        Ok(Some(raw)) => Value::Bool(Certificate::parse(&raw).is_some()),
        Ok(None) => Value::Null,
        Err(_) => Value::Bool(false),
    })
}
