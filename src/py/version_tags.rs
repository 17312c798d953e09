//! Answers about a class and an object's attributes that hold until one of them
//! changes, remembered by the version tags CPython keeps.
//!
//! The add path and the reports ask, on every call, whether methods such as
//! `_real_add_job` or `_dispatch_event` are still the library's: neither the class
//! (or a base) nor the instance replaced them. Asking costs two lookups a method, a
//! few hundred nanoseconds an `add_job`. CPython already tracks what the answer
//! depends on:
//!
//! - a type's `tp_version_tag` is reset whenever the type or one of its bases is
//!   modified, and a fresh one, never handed out before, is assigned at its next
//!   attribute lookup (the interpreter's method cache relies on this);
//! - a dictionary's `ma_version_tag` takes a fresh value from a global counter at its
//!   creation and at every change.
//!
//! So a yes found for (type tag, instance dictionary tag) holds as long as both tags
//! read the same. The stable ABI exposes neither field: where each lives is found
//! once, with probe objects, and the behaviour above is checked on probes too. If
//! anything does not match (another interpreter version, another layout), nothing is
//! remembered and every question is asked in full, as before.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use super::slots::fields_holding;

/// Where the two tags live.
struct TagPlaces {
    /// `tp_version_tag` (an unsigned int) in a type object.
    type_tag: usize,
    /// `ma_version_tag` (64 bits) in a dict object.
    dict_tag: usize,
}

fn tag_places(py: Python<'_>) -> Option<&'static TagPlaces> {
    static PLACES: PyOnceLock<Option<TagPlaces>> = PyOnceLock::new();
    PLACES.get_or_init(py, || find_tag_places(py).ok().flatten()).as_ref()
}

fn read_u32(object: &Bound<'_, PyAny>, offset: usize) -> u32 {
    // SAFETY: `offset` was found inside objects of the same kind by `find_tag_places`
    // (a type object, a dict object), whose fixed parts are at least that large; the
    // GIL is held, so no thread writes the field meanwhile.
    unsafe { std::ptr::read_unaligned(object.as_ptr().cast::<u8>().add(offset).cast::<u32>()) }
}

fn read_u64(object: &Bound<'_, PyAny>, offset: usize) -> u64 {
    // SAFETY: as in `read_u32`.
    unsafe { std::ptr::read_unaligned(object.as_ptr().cast::<u8>().add(offset).cast::<u64>()) }
}

/// A type's version tag, `None` while it has none (just modified, or out of tags).
fn type_tag(places: &TagPlaces, class: &Bound<'_, PyType>) -> Option<u32> {
    Some(read_u32(class.as_any(), places.type_tag)).filter(|&tag| tag != 0)
}

fn dict_tag(places: &TagPlaces, dict: &Bound<'_, PyDict>) -> u64 {
    read_u64(dict.as_any(), places.dict_tag)
}

/// `dict`'s version tag now, `None` where tags cannot be read.
pub(crate) fn dict_version(dict: &Bound<'_, PyDict>) -> Option<u64> {
    tag_places(dict.py()).map(|places| dict_tag(places, dict))
}

/// Finds the tags' places and checks that they behave as described at the top.
fn find_tag_places<'py>(py: Python<'py>) -> PyResult<Option<TagPlaces>> {
    // The fields up to tp_version_tag have kept their order since CPython 3.0;
    // tp_bases and tp_mro are found, and the tag is five pointers after tp_mro (behind
    // tp_cache, tp_subclasses, tp_weaklist and tp_del). 3.14 changed what dicts keep:
    // no version tag is assumed there.
    if py.version_info() >= (3, 14) || py.version_info() < (3, 9) {
        return Ok(None);
    }
    let word = std::mem::size_of::<usize>();
    let builtins = py.import("builtins")?;
    let type_class = builtins.getattr("type")?;
    let object_class = builtins.getattr("object")?;
    let new_class = |name: &str, bases: Bound<'py, PyTuple>| -> PyResult<Bound<'py, PyType>> {
        Ok(type_class.call1((name, bases, PyDict::new(py)))?.cast_into::<PyType>()?)
    };
    let base = new_class("TagProbeBase", PyTuple::new(py, [&object_class])?)?;
    let probe = new_class("TagProbe", PyTuple::new(py, [base.as_any()])?)?;
    let size: usize = type_class.getattr("__basicsize__")?.extract()?;
    let bases = fields_holding(probe.as_any(), size, &probe.getattr("__bases__")?);
    let mros = fields_holding(probe.as_any(), size, &probe.getattr("__mro__")?);
    let (&[bases], &[mro]) = (bases.as_slice(), mros.as_slice()) else { return Ok(None) };
    if mro != bases + word || mro + 5 * word + 4 > size {
        return Ok(None);
    }
    let dict_tag_offset = 2 * word + 8; // behind the header and ma_used
    let places = TagPlaces { type_tag: mro + 5 * word, dict_tag: dict_tag_offset };
    if type_tags_behave(&places, &base, &probe)? && dict_tags_behave(py, &places, &probe)? {
        Ok(Some(places))
    } else {
        Ok(None)
    }
}

/// A lookup gives a type a tag; changing its base takes it away; the next lookup gives
/// a tag not seen before.
fn type_tags_behave(places: &TagPlaces, base: &Bound<'_, PyType>, probe: &Bound<'_, PyType>) -> PyResult<bool> {
    let missing = "tag_probe_missing";
    let _ = probe.getattr(missing);
    let Some(first) = type_tag(places, probe) else { return Ok(false) };
    base.setattr("tag_probe_added", 1)?;
    let reset = type_tag(places, probe).is_none_or(|tag| tag != first);
    let _ = probe.getattr(missing);
    let Some(second) = type_tag(places, probe) else { return Ok(false) };
    probe.setattr("tag_probe_added", 2)?;
    let _ = probe.getattr(missing);
    let third = type_tag(places, probe);
    Ok(reset && second != first && third.is_some_and(|third| third != second && third != first))
}

/// Dicts start with distinct tags, and every change of an instance's attributes, made
/// after its `__dict__` was read, changes the tag; reading does not. `ma_used` sits
/// just before the tag: checking it confirms the place.
fn dict_tags_behave(py: Python<'_>, places: &TagPlaces, probe: &Bound<'_, PyType>) -> PyResult<bool> {
    let used_offset = places.dict_tag - 8;
    let instance = probe.call0()?;
    instance.setattr("first", 1)?;
    let attributes = instance.getattr("__dict__")?.cast_into::<PyDict>()?;
    let other = PyDict::new(py);
    let mut seen = vec![dict_tag(places, &attributes), dict_tag(places, &other)];
    let mut changes_seen = true;
    let mut note = |tag: u64| {
        changes_seen &= !seen.contains(&tag);
        seen.push(tag);
    };
    instance.setattr("first", 2)?;
    note(dict_tag(places, &attributes));
    instance.setattr("second", 3)?;
    note(dict_tag(places, &attributes));
    instance.delattr("first")?;
    note(dict_tag(places, &attributes));
    let before_read = dict_tag(places, &attributes);
    let _ = instance.getattr("second")?;
    let unchanged_by_reading = dict_tag(places, &attributes) == before_read;
    let used = read_u64(attributes.as_any(), used_offset);
    Ok(changes_seen && seen[0] != seen[1] && unchanged_by_reading && used == attributes.len() as u64)
}

/// The yes answers remembered: (question, type tag, dictionary tags). A handful is
/// enough: a program has a few schedulers, executors, stores and loggers.
struct Answers {
    entries: [Entry; 16],
    next: usize,
}

type Entry = (usize, usize, u32, [u64; 2]);

static ANSWERS: parking_lot::Mutex<Answers> = parking_lot::Mutex::new(Answers { entries: [(0, 0, 0, [0; 2]); 16], next: 0 });

/// The tags an answer about `class` and `dicts` depends on, `None` when they cannot be
/// read. A missing dict stands for tag 0: no dict has it.
fn tags_now(places: &TagPlaces, class: &Bound<'_, PyType>, dicts: Dicts<'_, '_>) -> Option<(u32, [u64; 2])> {
    let tags = dicts.map(|dict| dict.map_or(0, |dict| dict_tag(places, dict)));
    Some((type_tag(places, class)?, tags))
}

/// The dictionaries an answer depends on besides the class, `None` where there is
/// none.
pub(crate) type Dicts<'a, 'py> = [Option<&'a Bound<'py, PyDict>>; 2];

/// `ask()`, unless it answered yes for the same `question` (two numbers the caller
/// keeps distinct from other questions) while `class` and `dicts` had
/// the tags they have now. `ask` must look at nothing but `class` (with its bases) and
/// the contents of `dicts`.
pub(crate) fn remembered_yes(
    question: (usize, usize),
    class: &Bound<'_, PyType>,
    dicts: Dicts<'_, '_>,
    ask: impl FnOnce() -> PyResult<bool>,
) -> PyResult<bool> {
    let Some(places) = tag_places(class.py()) else { return ask() };
    let before = tags_now(places, class, dicts);
    if let Some((type_tag, dict_tags)) = before {
        if ANSWERS.lock().entries.contains(&(question.0, question.1, type_tag, dict_tags)) {
            return Ok(true);
        }
    }
    let answer = ask()?;
    // A tag that moved while asking (the first lookup after a change assigns one)
    // leaves nothing to remember this time; the next call finds it settled.
    if let Some((type_tag, dict_tags)) = before.filter(|_| answer && tags_now(places, class, dicts) == before) {
        let mut answers = ANSWERS.lock();
        let slot = answers.next;
        answers.entries[slot] = (question.0, question.1, type_tag, dict_tags);
        answers.next = (slot + 1) % answers.entries.len();
    }
    Ok(answer)
}
