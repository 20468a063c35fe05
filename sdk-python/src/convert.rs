//! Python arguments → SDK types: keys and values (bytes, str, or JSON for dict and list),
//! headers, topic partitions, and the settings shared by every client.
//!
//! Owns the accepted shapes and their error messages (`TypeError` for a wrong type). Values
//! of settings are checked by `weir::options` (shared with the Node binding), which raises
//! `weir.InvalidArgument` for one out of range. Must not choose anything the Rust SDK chooses
//! (partitions, batch sizes): settings left unset keep the SDK's defaults.

use std::time::Duration;

use bytes::Bytes;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use weir::options::{ClientOptions, Number, Spelling};

use crate::errors::IntoPyResult;

/// How Python spells option names in messages (`linger_ms`).
pub(crate) const SPELLING: Spelling = Spelling::Snake;

/// Bytes of a `bytes`, `bytearray` or `str` (UTF-8) object; `None` for other types.
fn raw_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Option<Bytes>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Some(Bytes::copy_from_slice(b.as_bytes())));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Bytes::from(s.to_cow()?.into_owned())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Some(Bytes::from(b.to_vec())));
    }
    Ok(None)
}

/// `json.dumps` with compact separators, as the REST API stores JSON values.
fn json_dumps(obj: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = obj.py();
    let dumps = DUMPS.import(py, "json", "dumps")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("separators", (",", ":"))?;
    kwargs.set_item("ensure_ascii", false)?;
    let text = dumps.call((obj,), Some(&kwargs))?;
    let text = text.cast::<PyString>()?;
    Ok(Bytes::from(text.to_cow()?.into_owned()))
}

/// A record key: `bytes`, `bytearray` or `str` (UTF-8).
#[derive(Debug)]
pub(crate) struct KeyArg(pub(crate) Bytes);

impl<'a, 'py> FromPyObject<'a, 'py> for KeyArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match raw_bytes(&obj)? {
            Some(b) => Ok(KeyArg(b)),
            None => Err(PyTypeError::new_err(format!(
                "a key must be bytes or str, not {}",
                obj.get_type().name()?
            ))),
        }
    }
}

/// A record value: `bytes`, `bytearray`, `str` (UTF-8), or `dict`/`list` (JSON-encoded).
#[derive(Debug)]
pub(crate) struct ValueArg(pub(crate) Bytes);

impl<'a, 'py> FromPyObject<'a, 'py> for ValueArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Some(b) = raw_bytes(&obj)? {
            return Ok(ValueArg(b));
        }
        if obj.is_instance_of::<PyDict>() || obj.is_instance_of::<PyList>() {
            return json_dumps(&obj).map(ValueArg);
        }
        Err(PyTypeError::new_err(format!(
            "a value must be bytes, str, dict or list (JSON), or None, not {}",
            obj.get_type().name()?
        )))
    }
}

/// One header value: bytes, str or None.
fn header_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<Bytes>> {
    if obj.is_none() {
        return Ok(None);
    }
    match raw_bytes(obj)? {
        Some(b) => Ok(Some(b)),
        None => Err(PyTypeError::new_err(format!(
            "a header value must be bytes, str or None, not {}",
            obj.get_type().name()?
        ))),
    }
}

/// Headers: a `dict` of name → value, or an iterable of `(name, value)` pairs (names may
/// repeat); values are bytes, str or None.
#[derive(Debug, Default)]
pub(crate) struct HeadersArg(pub(crate) Vec<weir::Header>);

impl<'a, 'py> FromPyObject<'a, 'py> for HeadersArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let mut headers = Vec::new();
        if let Ok(dict) = obj.cast::<PyDict>() {
            for (k, v) in dict.iter() {
                headers.push(header(&k, &v)?);
            }
            return Ok(HeadersArg(headers));
        }
        let bad = || PyTypeError::new_err("headers must be a dict or an iterable of (name, value)");
        for item in obj.try_iter().map_err(|_| bad())? {
            let item = item?;
            let pair = item.cast::<PyTuple>().map_err(|_| bad())?;
            if pair.len() != 2 {
                return Err(bad());
            }
            headers.push(header(&pair.get_item(0)?, &pair.get_item(1)?)?);
        }
        Ok(HeadersArg(headers))
    }
}

fn header(name: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<weir::Header> {
    let key = name
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("header names must be str"))?
        .to_cow()?
        .into_owned();
    Ok(weir::Header {
        key,
        value: header_value(value)?,
    })
}

/// Headers as Python sees them: a list of `(name, value)` tuples, in order.
pub(crate) fn headers_to_py<'py>(
    py: Python<'py>,
    headers: &[weir::Header],
) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<(String, Option<Bound<'py, PyBytes>>)> = headers
        .iter()
        .map(|h| (h.key.clone(), h.value.as_ref().map(|v| PyBytes::new(py, v))))
        .collect();
    PyList::new(py, items)
}

/// Milliseconds from Python (an int >= 0) as a `Duration`.
pub(crate) fn millis(value: i64, what: &str) -> PyResult<Duration> {
    Number::Int(value).millis(what).py()
}

/// The connection settings every client takes, as `weir::options` reads them.
pub(crate) fn client_options(
    url: String,
    tenant: String,
    token: Option<String>,
    request_timeout_ms: i64,
) -> ClientOptions {
    ClientOptions {
        url: Some(url),
        tenant: Some(tenant),
        token,
        request_timeout_ms: Some(Number::Int(request_timeout_ms)),
    }
}

/// `acks` as `weir::options` reads it: a name (`"leader"`, `"all"`, `"none"`, any case) or
/// Kafka's number for one (1, -1, 0).
pub(crate) fn acks(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(n) = value.extract::<i64>() {
        return Ok(n.to_string());
    }
    value
        .extract()
        .map_err(|_| PyTypeError::new_err("acks must be a str or an int"))
}
