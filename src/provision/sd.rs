//! Binary Windows security descriptors (MS-DTYP 2.4.6, self-relative form) as `nTSecurityDescriptor`
//! holds them: the descriptor header, SIDs, ACLs and ACEs, including the object ACEs (with an
//! object type and an inherited object type GUID) that carry AD's per-property and extended rights.
//!
//! Invariants: parsing never panics on what a DC sends (every offset and length is checked);
//! `serialize(parse(b)) == b` for every descriptor a DC produces: the order of the four parts
//! (owner, group, SACL, DACL) is kept as found, unknown ACE types and bytes after an ACE's SID or
//! after an ACL's last ACE are kept verbatim; sizes and offsets are recomputed on output, so an
//! edited descriptor (an ACE added) is always consistent. GUIDs are [`ObjectGuid`]s: the byte
//! layout in an ACE is the same mixed-endian layout as `objectGUID`.

use std::fmt;

use crate::domain::{ObjectGuid, Sid};

/// `SE_DACL_PRESENT`.
pub const SE_DACL_PRESENT: u16 = 0x0004;
/// `SE_DACL_PROTECTED`: the DACL does not inherit ACEs from the parent ("inheritance disabled").
pub const SE_DACL_PROTECTED: u16 = 0x1000;
/// `SE_SACL_PRESENT`.
pub const SE_SACL_PRESENT: u16 = 0x0010;
/// `SE_SELF_RELATIVE`.
pub const SE_SELF_RELATIVE: u16 = 0x8000;

/// `ACCESS_ALLOWED_ACE_TYPE`.
pub const ACCESS_ALLOWED: u8 = 0x00;
/// `ACCESS_DENIED_ACE_TYPE`.
pub const ACCESS_DENIED: u8 = 0x01;
/// `SYSTEM_AUDIT_ACE_TYPE`.
pub const SYSTEM_AUDIT: u8 = 0x02;
/// `ACCESS_ALLOWED_OBJECT_ACE_TYPE`.
pub const ACCESS_ALLOWED_OBJECT: u8 = 0x05;
/// `ACCESS_DENIED_OBJECT_ACE_TYPE`.
pub const ACCESS_DENIED_OBJECT: u8 = 0x06;
/// `SYSTEM_AUDIT_OBJECT_ACE_TYPE`.
pub const SYSTEM_AUDIT_OBJECT: u8 = 0x07;

/// ACE flag `OBJECT_INHERIT_ACE`.
pub const OBJECT_INHERIT: u8 = 0x01;
/// ACE flag `CONTAINER_INHERIT_ACE`.
pub const CONTAINER_INHERIT: u8 = 0x02;
/// ACE flag `NO_PROPAGATE_INHERIT_ACE`.
pub const NO_PROPAGATE_INHERIT: u8 = 0x04;
/// ACE flag `INHERIT_ONLY_ACE`.
pub const INHERIT_ONLY: u8 = 0x08;
/// ACE flag `INHERITED_ACE`.
pub const INHERITED: u8 = 0x10;

/// Object ACE flag: the object type GUID is present.
pub const OBJECT_TYPE_PRESENT: u32 = 0x1;
/// Object ACE flag: the inherited object type GUID is present.
pub const INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// Access mask bits for directory objects (MS-ADTS 5.1.3.2, MS-DTYP 2.4.3).
pub mod rights {
    /// `RIGHT_DS_CREATE_CHILD` (CC).
    pub const CREATE_CHILD: u32 = 0x0000_0001;
    /// `RIGHT_DS_DELETE_CHILD` (DC).
    pub const DELETE_CHILD: u32 = 0x0000_0002;
    /// `RIGHT_DS_LIST_CONTENTS` (LC).
    pub const LIST_CHILDREN: u32 = 0x0000_0004;
    /// `RIGHT_DS_WRITE_PROPERTY_EXTENDED` (SW, validated write).
    pub const SELF_WRITE: u32 = 0x0000_0008;
    /// `RIGHT_DS_READ_PROPERTY` (RP).
    pub const READ_PROPERTY: u32 = 0x0000_0010;
    /// `RIGHT_DS_WRITE_PROPERTY` (WP).
    pub const WRITE_PROPERTY: u32 = 0x0000_0020;
    /// `RIGHT_DS_DELETE_TREE` (DT).
    pub const DELETE_TREE: u32 = 0x0000_0040;
    /// `RIGHT_DS_LIST_OBJECT` (LO).
    pub const LIST_OBJECT: u32 = 0x0000_0080;
    /// `RIGHT_DS_CONTROL_ACCESS` (CR: extended rights).
    pub const CONTROL_ACCESS: u32 = 0x0000_0100;
    /// `DELETE` (SD).
    pub const DELETE: u32 = 0x0001_0000;
    /// `READ_CONTROL` (RC).
    pub const READ_CONTROL: u32 = 0x0002_0000;
    /// `WRITE_DAC` (WD).
    pub const WRITE_DAC: u32 = 0x0004_0000;
    /// `WRITE_OWNER` (WO).
    pub const WRITE_OWNER: u32 = 0x0008_0000;
    /// `GENERIC_ALL` (GA).
    pub const GENERIC_ALL: u32 = 0x1000_0000;
    /// `GENERIC_WRITE` (GW).
    pub const GENERIC_WRITE: u32 = 0x4000_0000;
    /// `GENERIC_READ` (GR).
    pub const GENERIC_READ: u32 = 0x8000_0000;
    /// The rights generic read maps to on directory objects: RC, LC, RP, LO.
    pub const READ: u32 = READ_CONTROL | LIST_CHILDREN | READ_PROPERTY | LIST_OBJECT;
    /// Every specific directory right (what GENERIC_ALL maps to).
    pub const FULL_CONTROL: u32 = 0x000F_01FF;
}

/// Why bytes are not a security descriptor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdError {
    /// Something is cut short or points outside the buffer.
    #[error("malformed security descriptor: {0}")]
    Malformed(String),
}

fn bad(what: impl Into<String>) -> SdError {
    SdError::Malformed(what.into())
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, SdError> {
    b.get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_le_bytes)
        .ok_or_else(|| bad(format!("2 bytes expected at offset {at}")))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, SdError> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| bad(format!("4 bytes expected at offset {at}")))
}

/// The SID that starts at `at`, and its length in bytes.
fn sid_at(b: &[u8], at: usize) -> Result<(Sid, usize), SdError> {
    let count = *b
        .get(at + 1)
        .ok_or_else(|| bad(format!("SID expected at offset {at}")))?;
    let len = 8 + 4 * usize::from(count);
    let bytes = b
        .get(at..at + len)
        .ok_or_else(|| bad(format!("SID at offset {at} runs past the end")))?;
    let sid = Sid::from_bytes(bytes).map_err(|e| bad(format!("SID at offset {at}: {e}")))?;
    Ok((sid, len))
}

fn guid_at(b: &[u8], at: usize) -> Result<ObjectGuid, SdError> {
    b.get(at..at + 16)
        .and_then(|s| ObjectGuid::from_bytes(s).ok())
        .ok_or_else(|| bad(format!("GUID expected at offset {at}")))
}

/// What an ACE holds after its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AceBody {
    /// Allowed, denied or audit ACE: a mask and a SID.
    Basic {
        /// The access mask.
        mask: u32,
        /// The trustee.
        sid: Sid,
    },
    /// An object ACE: rights limited to a property, property set, extended right or child
    /// class (`object_type`), inherited only by objects of a class (`inherited_object_type`).
    Object {
        /// The access mask.
        mask: u32,
        /// The object type GUID, if present.
        object_type: Option<ObjectGuid>,
        /// The inherited object type GUID, if present.
        inherited_object_type: Option<ObjectGuid>,
        /// The trustee.
        sid: Sid,
    },
    /// An ACE type this module does not interpret: its bytes after the header, verbatim.
    Other(Vec<u8>),
}

/// One access control entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    /// `AceType`.
    pub ace_type: u8,
    /// `AceFlags` (inheritance).
    pub flags: u8,
    /// The rest.
    pub body: AceBody,
    /// Bytes after the SID within `AceSize` (callback data or padding), kept verbatim.
    pub trailing: Vec<u8>,
}

impl Ace {
    /// An allow ACE for `sid` with `mask`, optionally limited to `object_type` and inherited by
    /// objects of class `inherited_object_type` (with `flags`, e.g. [`CONTAINER_INHERIT`] |
    /// [`INHERIT_ONLY`]).
    pub fn allow(
        sid: Sid,
        mask: u32,
        object_type: Option<ObjectGuid>,
        inherited_object_type: Option<ObjectGuid>,
        flags: u8,
    ) -> Self {
        if object_type.is_none() && inherited_object_type.is_none() {
            Ace {
                ace_type: ACCESS_ALLOWED,
                flags,
                body: AceBody::Basic { mask, sid },
                trailing: Vec::new(),
            }
        } else {
            Ace {
                ace_type: ACCESS_ALLOWED_OBJECT,
                flags,
                body: AceBody::Object {
                    mask,
                    object_type,
                    inherited_object_type,
                    sid,
                },
                trailing: Vec::new(),
            }
        }
    }

    /// The trustee, when the ACE type is understood.
    pub fn sid(&self) -> Option<&Sid> {
        match &self.body {
            AceBody::Basic { sid, .. } | AceBody::Object { sid, .. } => Some(sid),
            AceBody::Other(_) => None,
        }
    }

    /// The access mask, when the ACE type is understood.
    pub fn mask(&self) -> Option<u32> {
        match &self.body {
            AceBody::Basic { mask, .. } | AceBody::Object { mask, .. } => Some(*mask),
            AceBody::Other(_) => None,
        }
    }

    /// (object type, inherited object type) of an object ACE; (None, None) otherwise.
    pub fn object_types(&self) -> (Option<ObjectGuid>, Option<ObjectGuid>) {
        match &self.body {
            AceBody::Object {
                object_type,
                inherited_object_type,
                ..
            } => (*object_type, *inherited_object_type),
            _ => (None, None),
        }
    }

    /// Whether this ACE allows (rather than denies or audits).
    pub fn is_allow(&self) -> bool {
        matches!(self.ace_type, ACCESS_ALLOWED | ACCESS_ALLOWED_OBJECT)
    }

    /// Whether this ACE denies.
    pub fn is_deny(&self) -> bool {
        matches!(self.ace_type, ACCESS_DENIED | ACCESS_DENIED_OBJECT)
    }

    /// Whether it was inherited from a parent.
    pub fn is_inherited(&self) -> bool {
        self.flags & INHERITED != 0
    }

    fn parse(b: &[u8], at: usize) -> Result<(Ace, usize), SdError> {
        let ace_type = *b.get(at).ok_or_else(|| bad("ACE header"))?;
        let flags = *b.get(at + 1).ok_or_else(|| bad("ACE header"))?;
        let size = usize::from(u16_at(b, at + 2)?);
        if size < 4 || !size.is_multiple_of(4) {
            return Err(bad(format!("ACE at offset {at} has size {size}")));
        }
        let ace = b
            .get(at..at + size)
            .ok_or_else(|| bad(format!("ACE at offset {at} runs past its ACL")))?;
        let (body, used) = match ace_type {
            ACCESS_ALLOWED | ACCESS_DENIED | SYSTEM_AUDIT => {
                let mask = u32_at(ace, 4)?;
                let (sid, len) = sid_at(ace, 8)?;
                (AceBody::Basic { mask, sid }, 8 + len)
            }
            ACCESS_ALLOWED_OBJECT | ACCESS_DENIED_OBJECT | SYSTEM_AUDIT_OBJECT => {
                let mask = u32_at(ace, 4)?;
                let oflags = u32_at(ace, 8)?;
                if oflags & !(OBJECT_TYPE_PRESENT | INHERITED_OBJECT_TYPE_PRESENT) != 0 {
                    return Err(bad(format!(
                        "object ACE at offset {at} has unknown flags {oflags:#x}"
                    )));
                }
                let mut p = 12;
                let object_type = if oflags & OBJECT_TYPE_PRESENT != 0 {
                    p += 16;
                    Some(guid_at(ace, p - 16)?)
                } else {
                    None
                };
                let inherited_object_type = if oflags & INHERITED_OBJECT_TYPE_PRESENT != 0 {
                    p += 16;
                    Some(guid_at(ace, p - 16)?)
                } else {
                    None
                };
                let (sid, len) = sid_at(ace, p)?;
                (
                    AceBody::Object {
                        mask,
                        object_type,
                        inherited_object_type,
                        sid,
                    },
                    p + len,
                )
            }
            _ => (
                AceBody::Other(ace.get(4..).unwrap_or_default().to_vec()),
                size,
            ),
        };
        let trailing = ace
            .get(used..)
            .ok_or_else(|| bad(format!("ACE at offset {at} is shorter than its SID")))?
            .to_vec();
        Ok((
            Ace {
                ace_type,
                flags,
                body,
                trailing,
            },
            size,
        ))
    }

    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.push(self.ace_type);
        out.push(self.flags);
        out.extend_from_slice(&[0, 0]);
        match &self.body {
            AceBody::Basic { mask, sid } => {
                out.extend_from_slice(&mask.to_le_bytes());
                out.extend_from_slice(&sid.to_bytes());
            }
            AceBody::Object {
                mask,
                object_type,
                inherited_object_type,
                sid,
            } => {
                out.extend_from_slice(&mask.to_le_bytes());
                let mut oflags = 0;
                if object_type.is_some() {
                    oflags |= OBJECT_TYPE_PRESENT;
                }
                if inherited_object_type.is_some() {
                    oflags |= INHERITED_OBJECT_TYPE_PRESENT;
                }
                out.extend_from_slice(&oflags.to_le_bytes());
                for g in [object_type, inherited_object_type].into_iter().flatten() {
                    out.extend_from_slice(g.as_bytes());
                }
                out.extend_from_slice(&sid.to_bytes());
            }
            AceBody::Other(bytes) => out.extend_from_slice(bytes),
        }
        out.extend_from_slice(&self.trailing);
        // ACE sizes are multiples of 4.
        while !(out.len() - start).is_multiple_of(4) {
            out.push(0);
        }
        let size = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        if let Some(slot) = out.get_mut(start + 2..start + 4) {
            slot.copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// Two-letter SDDL names of the rights in `mask`, as `dsacls`/SDDL show them.
pub fn mask_text(mask: u32) -> String {
    use rights::*;
    if mask == FULL_CONTROL {
        return "GA".into();
    }
    let names = [
        (GENERIC_ALL, "GA"),
        (GENERIC_READ, "GR"),
        (GENERIC_WRITE, "GW"),
        (CREATE_CHILD, "CC"),
        (DELETE_CHILD, "DC"),
        (LIST_CHILDREN, "LC"),
        (SELF_WRITE, "SW"),
        (READ_PROPERTY, "RP"),
        (WRITE_PROPERTY, "WP"),
        (DELETE_TREE, "DT"),
        (LIST_OBJECT, "LO"),
        (CONTROL_ACCESS, "CR"),
        (DELETE, "SD"),
        (READ_CONTROL, "RC"),
        (WRITE_DAC, "WD"),
        (WRITE_OWNER, "WO"),
    ];
    let mut out = String::new();
    let mut rest = mask;
    for (bit, name) in names {
        if mask & bit != 0 {
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 {
        out.push_str(&format!("{rest:#x}"));
    }
    out
}

impl fmt::Display for Ace {
    /// The SDDL form: `(OA;CIIO;WP;<object>;<inherited object>;S-1-5-21-...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.ace_type {
            ACCESS_ALLOWED => "A",
            ACCESS_DENIED => "D",
            SYSTEM_AUDIT => "AU",
            ACCESS_ALLOWED_OBJECT => "OA",
            ACCESS_DENIED_OBJECT => "OD",
            SYSTEM_AUDIT_OBJECT => "OU",
            _ => return write!(f, "(type {:#x})", self.ace_type),
        };
        let mut flags = String::new();
        for (bit, name) in [
            (CONTAINER_INHERIT, "CI"),
            (OBJECT_INHERIT, "OI"),
            (NO_PROPAGATE_INHERIT, "NP"),
            (INHERIT_ONLY, "IO"),
            (INHERITED, "ID"),
        ] {
            if self.flags & bit != 0 {
                flags.push_str(name);
            }
        }
        let (ot, iot) = self.object_types();
        let g = |g: Option<ObjectGuid>| g.map(|g| g.to_string()).unwrap_or_default();
        let sid = self.sid().map(ToString::to_string).unwrap_or_default();
        write!(
            f,
            "({kind};{flags};{};{};{};{sid})",
            mask_text(self.mask().unwrap_or(0)),
            g(ot),
            g(iot)
        )
    }
}

/// An access control list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// `AclRevision` (2, or 4 when object ACEs are present).
    pub revision: u8,
    /// The entries, in order.
    pub aces: Vec<Ace>,
    /// Bytes after the last ACE within `AclSize`, kept verbatim.
    pub trailing: Vec<u8>,
}

impl Acl {
    fn parse(b: &[u8], at: usize) -> Result<Acl, SdError> {
        let revision = *b.get(at).ok_or_else(|| bad("ACL header"))?;
        let size = usize::from(u16_at(b, at + 2)?);
        let count = usize::from(u16_at(b, at + 4)?);
        if size < 8 {
            return Err(bad(format!("ACL at offset {at} has size {size}")));
        }
        let acl = b
            .get(at..at + size)
            .ok_or_else(|| bad(format!("ACL at offset {at} runs past the end")))?;
        let mut aces = Vec::with_capacity(count.min(1024));
        let mut p = 8;
        for _ in 0..count {
            let (ace, len) = Ace::parse(acl, p)?;
            aces.push(ace);
            p += len;
        }
        Ok(Acl {
            revision,
            aces,
            trailing: acl.get(p..).unwrap_or_default().to_vec(),
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        // Object ACEs need revision 4 (ACL_REVISION_DS).
        let needs_ds = self.aces.iter().any(|a| {
            matches!(
                a.ace_type,
                ACCESS_ALLOWED_OBJECT | ACCESS_DENIED_OBJECT | SYSTEM_AUDIT_OBJECT
            )
        });
        let revision = if needs_ds {
            self.revision.max(4)
        } else {
            self.revision
        };
        out.extend_from_slice(&[revision, 0, 0, 0]);
        let count = u16::try_from(self.aces.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        for ace in &self.aces {
            ace.write(out);
        }
        out.extend_from_slice(&self.trailing);
        let size = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        if let Some(slot) = out.get_mut(start + 2..start + 4) {
            slot.copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// The four parts of a descriptor, in the order they are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The owner SID.
    Owner,
    /// The primary group SID.
    Group,
    /// The system ACL.
    Sacl,
    /// The discretionary ACL.
    Dacl,
}

/// A self-relative security descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityDescriptor {
    /// Revision (1).
    pub revision: u8,
    /// `Sbz1` (the resource manager control byte; 0 in AD).
    pub sbz1: u8,
    /// Control flags (`SE_DACL_PRESENT`, `SE_DACL_PROTECTED`, ...).
    pub control: u16,
    /// The owner.
    pub owner: Option<Sid>,
    /// The primary group.
    pub group: Option<Sid>,
    /// The SACL.
    pub sacl: Option<Acl>,
    /// The DACL.
    pub dacl: Option<Acl>,
    /// The order of the present parts in the binary form (kept for byte-exact round trips).
    pub layout: Vec<Part>,
}

impl SecurityDescriptor {
    /// Parse a self-relative descriptor (an `nTSecurityDescriptor` value).
    pub fn parse(b: &[u8]) -> Result<Self, SdError> {
        if b.len() < 20 {
            return Err(bad(format!(
                "{} bytes; a descriptor header has 20",
                b.len()
            )));
        }
        let revision = *b.first().ok_or_else(|| bad("header"))?;
        if revision != 1 {
            return Err(bad(format!("revision {revision}, expected 1")));
        }
        let sbz1 = *b.get(1).ok_or_else(|| bad("header"))?;
        let control = u16_at(b, 2)?;
        if control & SE_SELF_RELATIVE == 0 {
            return Err(bad("not in self-relative form"));
        }
        let offsets = [
            (Part::Owner, u32_at(b, 4)?),
            (Part::Group, u32_at(b, 8)?),
            (Part::Sacl, u32_at(b, 12)?),
            (Part::Dacl, u32_at(b, 16)?),
        ];
        let at = |o: u32| -> Result<usize, SdError> {
            let o = usize::try_from(o).map_err(|_| bad("offset"))?;
            if o < 20 || o >= b.len() {
                return Err(bad(format!("offset {o} outside the descriptor")));
            }
            Ok(o)
        };
        let mut sd = SecurityDescriptor {
            revision,
            sbz1,
            control,
            owner: None,
            group: None,
            sacl: None,
            dacl: None,
            layout: Vec::new(),
        };
        let mut present: Vec<(u32, Part)> = Vec::new();
        for (part, offset) in offsets {
            if offset == 0 {
                continue;
            }
            let o = at(offset)?;
            match part {
                Part::Owner => sd.owner = Some(sid_at(b, o)?.0),
                Part::Group => sd.group = Some(sid_at(b, o)?.0),
                Part::Sacl => sd.sacl = Some(Acl::parse(b, o)?),
                Part::Dacl => sd.dacl = Some(Acl::parse(b, o)?),
            }
            present.push((offset, part));
        }
        present.sort_by_key(|(o, _)| *o);
        sd.layout = present.into_iter().map(|(_, p)| p).collect();
        Ok(sd)
    }

    /// The self-relative binary form: the parts in [`SecurityDescriptor::layout`] order (parts
    /// present but missing from the layout go last, in the order owner, group, SACL, DACL), with
    /// fresh offsets and sizes.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.push(self.revision);
        out.push(self.sbz1);
        let mut control = self.control | SE_SELF_RELATIVE;
        if self.dacl.is_some() {
            control |= SE_DACL_PRESENT;
        }
        if self.sacl.is_some() {
            control |= SE_SACL_PRESENT;
        }
        out.extend_from_slice(&control.to_le_bytes());
        out.extend_from_slice(&[0; 16]);
        let mut order = self.layout.clone();
        for p in [Part::Owner, Part::Group, Part::Sacl, Part::Dacl] {
            if !order.contains(&p) {
                order.push(p);
            }
        }
        for part in order {
            let offset = u32::try_from(out.len()).unwrap_or(0);
            let slot = match part {
                Part::Owner => self.owner.as_ref().map(|s| {
                    out.extend_from_slice(&s.to_bytes());
                    4
                }),
                Part::Group => self.group.as_ref().map(|s| {
                    out.extend_from_slice(&s.to_bytes());
                    8
                }),
                Part::Sacl => self.sacl.as_ref().map(|a| {
                    a.write(&mut out);
                    12
                }),
                Part::Dacl => self.dacl.as_ref().map(|a| {
                    a.write(&mut out);
                    16
                }),
            };
            if let Some(slot) = slot
                && let Some(s) = out.get_mut(slot..slot + 4)
            {
                s.copy_from_slice(&offset.to_le_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The example of MS-DRSR 5.16.3.16 String(NT-Sec-Desc): DACL first, then owner and group;
    /// an object ACE granting Change Password to SELF.
    const MS_DRSR_EXAMPLE: &str = "0100048c7000000080000000000000001400000004005c0003000000050028000001000001000000531a72ab2f1ed011981900aa0040529b01010000000000050a00000000121800ff010f0001020000000000052000000020020000001214009400020001010000000000050b000000010200001cd509a01845935900020000010200001cd509a01845935900020000";

    #[test]
    fn the_ms_drsr_example_parses_as_documented_and_round_trips() {
        let bytes = hex(MS_DRSR_EXAMPLE);
        let sd = SecurityDescriptor::parse(&bytes).unwrap();
        assert_eq!(sd.control, 0x8c04);
        assert_eq!(sd.layout, [Part::Dacl, Part::Owner, Part::Group]);
        assert_eq!(
            sd.owner.as_ref().unwrap().to_string(),
            "S-1-483723680-1502823704-512"
        );
        let dacl = sd.dacl.as_ref().unwrap();
        assert_eq!(dacl.revision, 4);
        assert_eq!(dacl.aces.len(), 3);
        let first = &dacl.aces[0];
        assert_eq!(first.ace_type, ACCESS_ALLOWED_OBJECT);
        assert_eq!(first.mask(), Some(rights::CONTROL_ACCESS));
        assert_eq!(
            first.object_types().0.unwrap().to_string(),
            "ab721a53-1e2f-11d0-9819-00aa0040529b"
        );
        assert_eq!(first.sid().unwrap().to_string(), "S-1-5-10");
        assert_eq!(
            first.to_string(),
            "(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;S-1-5-10)"
        );
        assert_eq!(dacl.aces[1].flags, CONTAINER_INHERIT | INHERITED);
        assert_eq!(dacl.aces[1].mask(), Some(0x000f_01ff));
        assert_eq!(sd.serialize(), bytes);
    }

    #[test]
    fn malformed_descriptors_are_errors() {
        let bytes = hex(MS_DRSR_EXAMPLE);
        for cut in [0, 10, 19, 20, 40, 100, bytes.len() - 1] {
            assert!(SecurityDescriptor::parse(&bytes[..cut]).is_err(), "{cut}");
        }
        let mut b = bytes.clone();
        b[2] = 0; // not self-relative
        b[3] = 0;
        assert!(SecurityDescriptor::parse(&b).is_err());
    }

    #[test]
    fn an_added_ace_keeps_sizes_and_offsets_consistent() {
        let mut sd = SecurityDescriptor::parse(&hex(MS_DRSR_EXAMPLE)).unwrap();
        let sid: Sid = "S-1-5-21-1-2-3-1105".parse().unwrap();
        let guid: ObjectGuid = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2".parse().unwrap();
        let ace = Ace::allow(sid, rights::CONTROL_ACCESS, Some(guid), None, 0);
        sd.dacl.as_mut().unwrap().aces.insert(1, ace.clone());
        let again = SecurityDescriptor::parse(&sd.serialize()).unwrap();
        assert_eq!(again, sd);
        assert_eq!(again.dacl.unwrap().aces[1], ace);
    }

    fn arb_sid() -> impl Strategy<Value = Sid> {
        (
            0u64..(1 << 48),
            proptest::collection::vec(any::<u32>(), 0..6),
        )
            .prop_map(|(a, subs)| Sid::new(a, &subs).unwrap())
    }

    fn arb_guid() -> impl Strategy<Value = ObjectGuid> {
        any::<[u8; 16]>().prop_map(ObjectGuid::from_array)
    }

    fn arb_ace() -> impl Strategy<Value = Ace> {
        let basic = (
            prop_oneof![
                Just(ACCESS_ALLOWED),
                Just(ACCESS_DENIED),
                Just(SYSTEM_AUDIT)
            ],
            any::<u32>(),
            arb_sid(),
        )
            .prop_map(|(t, mask, sid)| (t, AceBody::Basic { mask, sid }));
        let object = (
            prop_oneof![
                Just(ACCESS_ALLOWED_OBJECT),
                Just(ACCESS_DENIED_OBJECT),
                Just(SYSTEM_AUDIT_OBJECT)
            ],
            any::<u32>(),
            proptest::option::of(arb_guid()),
            proptest::option::of(arb_guid()),
            arb_sid(),
        )
            .prop_map(|(t, mask, object_type, inherited_object_type, sid)| {
                (
                    t,
                    AceBody::Object {
                        mask,
                        object_type,
                        inherited_object_type,
                        sid,
                    },
                )
            });
        let other = (
            9u8..20,
            proptest::collection::vec(any::<[u8; 4]>(), 0..6).prop_map(|v| v.concat()),
        )
            .prop_map(|(t, b)| (t, AceBody::Other(b)));
        (
            prop_oneof![basic, object, other],
            any::<u8>(),
            proptest::collection::vec(any::<[u8; 4]>(), 0..2).prop_map(|v| v.concat()),
        )
            .prop_map(|((ace_type, body), flags, trailing)| {
                let trailing = if matches!(body, AceBody::Other(_)) {
                    Vec::new()
                } else {
                    trailing
                };
                Ace {
                    ace_type,
                    flags,
                    body,
                    trailing,
                }
            })
    }

    fn arb_acl() -> impl Strategy<Value = Acl> {
        (
            proptest::collection::vec(arb_ace(), 0..8),
            proptest::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(|(aces, trailing)| {
                let needs_ds = aces
                    .iter()
                    .any(|a| matches!(a.body, AceBody::Object { .. }));
                Acl {
                    revision: if needs_ds { 4 } else { 2 },
                    aces,
                    trailing,
                }
            })
    }

    fn arb_sd() -> impl Strategy<Value = SecurityDescriptor> {
        (
            any::<u16>(),
            proptest::option::of(arb_sid()),
            proptest::option::of(arb_sid()),
            proptest::option::of(arb_acl()),
            proptest::option::of(arb_acl()),
            Just(vec![Part::Owner, Part::Group, Part::Sacl, Part::Dacl]).prop_shuffle(),
        )
            .prop_map(|(control, owner, group, sacl, dacl, order)| {
                let mut control = control | SE_SELF_RELATIVE;
                control &= !(SE_DACL_PRESENT | SE_SACL_PRESENT);
                if dacl.is_some() {
                    control |= SE_DACL_PRESENT;
                }
                if sacl.is_some() {
                    control |= SE_SACL_PRESENT;
                }
                let layout = order
                    .into_iter()
                    .filter(|p| match p {
                        Part::Owner => owner.is_some(),
                        Part::Group => group.is_some(),
                        Part::Sacl => sacl.is_some(),
                        Part::Dacl => dacl.is_some(),
                    })
                    .collect();
                SecurityDescriptor {
                    revision: 1,
                    sbz1: 0,
                    control,
                    owner,
                    group,
                    sacl,
                    dacl,
                    layout,
                }
            })
    }

    proptest! {
        #[test]
        fn descriptors_round_trip(sd in arb_sd()) {
            let bytes = sd.serialize();
            let back = SecurityDescriptor::parse(&bytes).unwrap();
            prop_assert_eq!(&back, &sd);
            prop_assert_eq!(back.serialize(), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(sd) = SecurityDescriptor::parse(&bytes) {
                // Whatever parses, serializes and parses to the same value.
                let again = SecurityDescriptor::parse(&sd.serialize()).unwrap();
                prop_assert_eq!(again.owner, sd.owner);
                prop_assert_eq!(
                    again.dacl.map(|a| a.aces),
                    sd.dacl.map(|a| a.aces)
                );
            }
        }

        #[test]
        fn valid_descriptors_with_flipped_bytes_never_panic(
            sd in arb_sd(), at in any::<usize>(), byte in any::<u8>()
        ) {
            let mut bytes = sd.serialize();
            let i = at % bytes.len();
            bytes[i] = byte;
            let _ = SecurityDescriptor::parse(&bytes);
        }
    }
}
