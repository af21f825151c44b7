//! The schemas rules are checked against, in one place: the metaverse (object types person,
//! group, device, with typed single- or multi-valued attributes), the built-in list of
//! well-known Active Directory attributes, and the Microsoft Graph user and group properties
//! (which the Entra target can write, and why the others are read-only).
//!
//! Invariants: every lookup ignores ASCII case, as LDAP and Graph do; each list is data, not
//! logic, so adding an attribute is one line; the AD list is a fixed built-in list (hybridsync
//! does not read the forest's schema yet), so messages about names missing from it say exactly
//! that; the Graph list holds only properties the Graph v1.0 API accepts on create or update.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::model::MvObjectType;

/// The value type of an attribute (the types of Entra Connect's metaverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// Text.
    Str,
    /// 64-bit integer.
    Num,
    /// Boolean.
    Bool,
    /// Binary data.
    Bin,
    /// A reference to another object.
    Ref,
    /// A date and time.
    Dt,
}

impl AttrType {
    /// How messages name the type.
    pub fn describe(self) -> &'static str {
        match self {
            AttrType::Str => "text",
            AttrType::Num => "a number",
            AttrType::Bool => "a boolean",
            AttrType::Bin => "binary data",
            AttrType::Ref => "a reference",
            AttrType::Dt => "a date",
        }
    }
}

/// One attribute of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    /// The canonical spelling.
    pub name: &'static str,
    /// The value type.
    pub ty: AttrType,
    /// Whether it holds several values.
    pub multi: bool,
}

use AttrType::{Bin, Bool, Dt, Num, Ref, Str};

const fn one(name: &'static str, ty: AttrType) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
    }
}

const fn many(name: &'static str, ty: AttrType) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: true,
    }
}

/// Attributes every metaverse object type has.
const MV_COMMON: &[AttrDef] = &[
    one("cloudFiltered", Bool),
    one("cn", Str),
    one("displayName", Str),
    one("distinguishedName", Str),
    one("domainFQDN", Str),
    one("domainNetBios", Str),
    one("forestFQDN", Str),
    one("forestNetBios", Str),
    one("objectSid", Bin),
    one("objectSidString", Str),
    one("sourceAnchor", Str),
    one("sourceAnchorBinary", Bin),
    one("sourceObjectType", Str),
];

/// Attributes shared by person and group (mail and Exchange addressing).
const MV_MAIL: &[AttrDef] = &[
    one("accountName", Str),
    many("authOrig", Ref),
    one("description", Str),
    many("dLMemRejectPerms", Ref),
    many("dLMemSubmitPerms", Ref),
    one("extensionAttribute1", Str),
    one("extensionAttribute2", Str),
    one("extensionAttribute3", Str),
    one("extensionAttribute4", Str),
    one("extensionAttribute5", Str),
    one("extensionAttribute6", Str),
    one("extensionAttribute7", Str),
    one("extensionAttribute8", Str),
    one("extensionAttribute9", Str),
    one("extensionAttribute10", Str),
    one("extensionAttribute11", Str),
    one("extensionAttribute12", Str),
    one("extensionAttribute13", Str),
    one("extensionAttribute14", Str),
    one("extensionAttribute15", Str),
    one("info", Str),
    one("legacyExchangeDN", Str),
    one("mail", Str),
    one("mailEnabled", Bool),
    one("mailNickname", Str),
    one("msDS-HABSeniorityIndex", Num),
    many("msExchBypassModerationLink", Ref),
    one("msExchEnableModeration", Bool),
    many("msExchExtensionCustomAttribute1", Str),
    many("msExchExtensionCustomAttribute2", Str),
    many("msExchExtensionCustomAttribute3", Str),
    many("msExchExtensionCustomAttribute4", Str),
    many("msExchExtensionCustomAttribute5", Str),
    one("msExchHideFromAddressLists", Bool),
    many("msExchModeratedByLink", Ref),
    one("msExchModerationFlags", Num),
    one("msExchRecipientDisplayType", Num),
    one("msExchRecipientTypeDetails", Num),
    one("msExchRequireAuthToSendTo", Bool),
    many("msExchSenderHintTranslations", Str),
    many("proxyAddresses", Str),
    many("publicDelegates", Ref),
    many("unauthOrig", Ref),
];

/// Attributes only persons have.
const MV_PERSON: &[AttrDef] = &[
    one("accountEnabled", Bool),
    one("c", Str),
    one("co", Str),
    one("company", Str),
    one("contributingConnectorUser", Str),
    one("countryCode", Num),
    one("department", Str),
    one("employeeHireDate", Dt),
    one("employeeID", Str),
    one("employeeNumber", Str),
    one("employeeType", Str),
    one("facsimileTelephoneNumber", Str),
    one("givenName", Str),
    one("homePhone", Str),
    one("initials", Str),
    one("ipPhone", Str),
    one("l", Str),
    one("manager", Ref),
    one("middleName", Str),
    one("mobile", Str),
    one("msDS-PhoneticCompanyName", Str),
    one("msDS-PhoneticDepartment", Str),
    one("msDS-PhoneticDisplayName", Str),
    one("msDS-PhoneticFirstName", Str),
    one("msDS-PhoneticLastName", Str),
    one("msExchArchiveGUID", Bin),
    many("msExchArchiveName", Str),
    one("msExchAssistantName", Str),
    one("msExchAuditAdmin", Num),
    one("msExchAuditDelegate", Num),
    one("msExchAuditDelegateAdmin", Num),
    one("msExchAuditOwner", Num),
    many("msExchBlockedSendersHash", Bin),
    one("msExchBypassAudit", Bool),
    many("msExchDelegateListLink", Ref),
    one("msExchELCExpirySuspensionEnd", Dt),
    one("msExchELCExpirySuspensionStart", Dt),
    one("msExchELCMailboxFlags", Num),
    one("msExchLitigationHoldDate", Dt),
    one("msExchLitigationHoldOwner", Str),
    one("msExchMailboxAuditEnable", Bool),
    one("msExchMailboxAuditLogAgeLimit", Num),
    one("msExchMailboxGuid", Bin),
    one("msExchMasterAccountSid", Bin),
    one("msExchRemoteRecipientType", Num),
    one("msExchResourceCapacity", Num),
    one("msExchResourceDisplay", Str),
    many("msExchResourceMetaData", Str),
    many("msExchResourceSearchProperties", Str),
    one("msExchRetentionComment", Str),
    one("msExchRetentionURL", Str),
    many("msExchSafeRecipientsHash", Bin),
    many("msExchSafeSendersHash", Bin),
    one("msExchTeamMailboxExpiration", Dt),
    many("msExchTeamMailboxOwners", Ref),
    one("msExchTeamMailboxSharePointUrl", Str),
    many("msExchUserHoldPolicies", Str),
    many("otherFacsimileTelephoneNumber", Str),
    many("otherHomePhone", Str),
    many("otherIpPhone", Str),
    many("otherMobile", Str),
    many("otherPager", Str),
    many("otherTelephone", Str),
    one("pager", Str),
    one("physicalDeliveryOfficeName", Str),
    one("postalCode", Str),
    one("postOfficeBox", Str),
    one("preferredLanguage", Str),
    one("pwdLastSet", Str),
    one("sn", Str),
    one("st", Str),
    one("streetAddress", Str),
    one("targetAddress", Str),
    one("telephoneAssistant", Str),
    one("telephoneNumber", Str),
    one("thumbnailPhoto", Bin),
    one("title", Str),
    one("url", Str),
    one("usageLocation", Str),
    many("userCertificate", Bin),
    one("userPrincipalName", Str),
    many("userSMIMECertificate", Bin),
    one("wWWHomePage", Str),
];

/// Attributes only groups have.
const MV_GROUP: &[AttrDef] = &[
    one("hideDLMembership", Bool),
    one("managedBy", Ref),
    many("member", Ref),
    one("memberCount", Num),
    many("msExchBypassModerationFromDLMembersLink", Ref),
    many("msExchCoManagedByLink", Ref),
    one("msExchGroupDepartRestriction", Num),
    one("msExchGroupJoinRestriction", Num),
    one("msOrg-IsOrganizational", Bool),
    one("oOFReplyToOriginator", Bool),
    one("reportToOriginator", Bool),
    one("reportToOwner", Bool),
    one("securityEnabled", Bool),
];

/// Attributes only devices have.
const MV_DEVICE: &[AttrDef] = &[
    one("accountEnabled", Bool),
    one("cloudCreated", Bool),
    one("deviceId", Bin),
    one("deviceOSType", Str),
    one("deviceOSVersion", Str),
    one("deviceTrustType", Str),
    one("registeredOwnerReference", Bin),
    many("userCertificate", Bin),
];

/// Every attribute of a metaverse object type, in a stable order (shared ones first).
pub fn mv_attributes(ty: MvObjectType) -> Vec<AttrDef> {
    let parts: &[&[AttrDef]] = match ty {
        MvObjectType::Person => &[MV_COMMON, MV_MAIL, MV_PERSON],
        MvObjectType::Group => &[MV_COMMON, MV_MAIL, MV_GROUP],
        MvObjectType::Device => &[MV_COMMON, MV_DEVICE],
    };
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

type NameIndex = crate::engine::hash::FastMap<String, AttrDef>;

/// Per metaverse type (in [`MvObjectType::ALL`] order), its attributes by folded name.
static MV_INDEX: LazyLock<[NameIndex; 3]> = LazyLock::new(|| {
    MvObjectType::ALL.map(|ty| {
        mv_attributes(ty)
            .into_iter()
            .map(|def| (def.name.to_ascii_lowercase(), def))
            .collect()
    })
});

/// A metaverse attribute of `ty`, looked up case-insensitively (called per attribute and
/// object by the sync stage: short names are folded on the stack).
pub fn mv_attribute(ty: MvObjectType, name: &str) -> Option<AttrDef> {
    let defs = match ty {
        MvObjectType::Person => &MV_INDEX[0],
        MvObjectType::Group => &MV_INDEX[1],
        MvObjectType::Device => &MV_INDEX[2],
    };
    let mut buf = [0u8; 64];
    match buf.get_mut(..name.len()) {
        Some(folded) => {
            folded.copy_from_slice(name.as_bytes());
            folded.make_ascii_lowercase();
            defs.get(std::str::from_utf8(folded).ok()?).copied()
        }
        None => defs.get(&name.to_ascii_lowercase()).copied(),
    }
}

/// The Active Directory object classes inbound rules can read.
pub const AD_OBJECT_CLASSES: &[&str] = &[
    "user",
    "inetOrgPerson",
    "group",
    "contact",
    "computer",
    "foreignSecurityPrincipal",
];

/// Names that are not LDAP attributes but that rules may read from an AD object: `dn` (the
/// object's distinguished name, as in `CRef([dn])`).
const AD_PSEUDO: &[&str] = &["dn"];

/// Well-known Active Directory attributes: everything the shipped rules read, and the common
/// attributes of users, inetOrgPersons, contacts, groups and computers, with the Exchange ones.
pub const AD_ATTRIBUTES: &[&str] = &[
    // Identity and naming.
    "objectGUID",
    "objectSid",
    "objectClass",
    "objectCategory",
    "distinguishedName",
    "name",
    "cn",
    "sAMAccountName",
    "sAMAccountType",
    "userPrincipalName",
    "mS-DS-ConsistencyGuid",
    "sIDHistory",
    "isCriticalSystemObject",
    "adminDescription",
    "adminDisplayName",
    "adminCount",
    "whenCreated",
    "whenChanged",
    "uSNCreated",
    "uSNChanged",
    "isDeleted",
    "isRecycled",
    "lastKnownParent",
    "instanceType",
    "showInAdvancedViewOnly",
    "systemFlags",
    "msDS-PrincipalName",
    "msDS-parentdistname",
    "canonicalName",
    "nTSecurityDescriptor",
    "mS-DS-CreatorSID",
    "msDS-KeyCredentialLink",
    "msDS-ExternalDirectoryObjectId",
    "msDS-cloudExtensionAttribute1",
    "msDS-cloudExtensionAttribute2",
    "msDS-cloudExtensionAttribute3",
    "msDS-cloudExtensionAttribute4",
    "msDS-cloudExtensionAttribute5",
    "msDS-cloudExtensionAttribute6",
    "msDS-cloudExtensionAttribute7",
    "msDS-cloudExtensionAttribute8",
    "msDS-cloudExtensionAttribute9",
    "msDS-cloudExtensionAttribute10",
    "msDS-cloudExtensionAttribute11",
    "msDS-cloudExtensionAttribute12",
    "msDS-cloudExtensionAttribute13",
    "msDS-cloudExtensionAttribute14",
    "msDS-cloudExtensionAttribute15",
    "msDS-cloudExtensionAttribute16",
    "msDS-cloudExtensionAttribute17",
    "msDS-cloudExtensionAttribute18",
    "msDS-cloudExtensionAttribute19",
    "msDS-cloudExtensionAttribute20",
    // Accounts.
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "pwdLastSet",
    "accountExpires",
    "lastLogon",
    "lastLogonTimestamp",
    "logonCount",
    "badPwdCount",
    "badPasswordTime",
    "lockoutTime",
    "primaryGroupID",
    "memberOf",
    "userWorkstations",
    "scriptPath",
    "profilePath",
    "homeDirectory",
    "homeDrive",
    "logonHours",
    "msDS-AllowedToDelegateTo",
    "servicePrincipalName",
    "altSecurityIdentities",
    "msDS-SupportedEncryptionTypes",
    "userParameters",
    "msNPAllowDialin",
    "uid",
    "uidNumber",
    "gidNumber",
    "unixHomeDirectory",
    "loginShell",
    "gecos",
    // People: names and organisation.
    "displayName",
    "givenName",
    "sn",
    "initials",
    "middleName",
    "generationQualifier",
    "personalTitle",
    "title",
    "description",
    "department",
    "departmentNumber",
    "company",
    "division",
    "employeeID",
    "employeeNumber",
    "employeeType",
    "manager",
    "directReports",
    "assistant",
    "secretary",
    "info",
    "comment",
    "o",
    "ou",
    "businessCategory",
    "physicalDeliveryOfficeName",
    "roomNumber",
    "preferredLanguage",
    "msDS-PhoneticCompanyName",
    "msDS-PhoneticDepartment",
    "msDS-PhoneticDisplayName",
    "msDS-PhoneticFirstName",
    "msDS-PhoneticLastName",
    "msDS-HABSeniorityIndex",
    "thumbnailPhoto",
    "jpegPhoto",
    "photo",
    "labeledURI",
    "carLicense",
    "audio",
    // Addresses.
    "streetAddress",
    "street",
    "postOfficeBox",
    "postalCode",
    "postalAddress",
    "l",
    "st",
    "c",
    "co",
    "countryCode",
    "homePostalAddress",
    "registeredAddress",
    // Phones and web.
    "telephoneNumber",
    "otherTelephone",
    "homePhone",
    "otherHomePhone",
    "mobile",
    "otherMobile",
    "pager",
    "otherPager",
    "facsimileTelephoneNumber",
    "otherFacsimileTelephoneNumber",
    "ipPhone",
    "otherIpPhone",
    "telephoneAssistant",
    "internationalISDNNumber",
    "primaryInternationalISDNNumber",
    "primaryTelexNumber",
    "telexNumber",
    "wWWHomePage",
    "url",
    // Mail and Exchange addressing.
    "mail",
    "otherMailbox",
    "mailNickname",
    "proxyAddresses",
    "targetAddress",
    "legacyExchangeDN",
    "showInAddressBook",
    "textEncodedORAddress",
    "homeMDB",
    "homeMTA",
    "msExchHomeServerName",
    "authOrig",
    "unauthOrig",
    "dLMemRejectPerms",
    "dLMemSubmitPerms",
    "dLMemDefault",
    "publicDelegates",
    "publicDelegatesBL",
    "altRecipient",
    "deliverAndRedirect",
    "mDBUseDefaults",
    "mDBStorageQuota",
    "mDBOverQuotaLimit",
    "mDBOverHardQuotaLimit",
    "submissionContLength",
    "delivContLength",
    "hideDLMembership",
    "oOFReplyToOriginator",
    "reportToOriginator",
    "reportToOwner",
    "msOrg-IsOrganizational",
    "msOrg-GroupSubtypeName",
    "msOrg-LeadersBL",
    "msOrg-OtherDisplayNames",
    "userCertificate",
    "userSMIMECertificate",
    "userPKCS12",
    "msPKI-CredentialRoamingTokens",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
    // Exchange recipient attributes.
    "msExchArchiveGUID",
    "msExchArchiveName",
    "msExchArchiveStatus",
    "msExchAssistantName",
    "msExchAuditAdmin",
    "msExchAuditDelegate",
    "msExchAuditDelegateAdmin",
    "msExchAuditOwner",
    "msExchBlockedSendersHash",
    "msExchBypassAudit",
    "msExchBypassModerationLink",
    "msExchBypassModerationFromDLMembersLink",
    "msExchCoManagedByLink",
    "msExchDelegateListLink",
    "msExchELCExpirySuspensionEnd",
    "msExchELCExpirySuspensionStart",
    "msExchELCMailboxFlags",
    "msExchEnableModeration",
    "msExchExtensionAttribute16",
    "msExchExtensionAttribute17",
    "msExchExtensionAttribute18",
    "msExchExtensionAttribute19",
    "msExchExtensionAttribute20",
    "msExchExtensionCustomAttribute1",
    "msExchExtensionCustomAttribute2",
    "msExchExtensionCustomAttribute3",
    "msExchExtensionCustomAttribute4",
    "msExchExtensionCustomAttribute5",
    "msExchGroupDepartRestriction",
    "msExchGroupJoinRestriction",
    "msExchHideFromAddressLists",
    "msExchImmutableId",
    "msExchLitigationHoldDate",
    "msExchLitigationHoldOwner",
    "msExchMailboxAuditEnable",
    "msExchMailboxAuditLogAgeLimit",
    "msExchMailboxGuid",
    "msExchMasterAccountSid",
    "msExchModeratedByLink",
    "msExchModerationFlags",
    "msExchPoliciesExcluded",
    "msExchPoliciesIncluded",
    "msExchRecipientDisplayType",
    "msExchRecipientTypeDetails",
    "msExchRemoteRecipientType",
    "msExchRequireAuthToSendTo",
    "msExchResourceCapacity",
    "msExchResourceDisplay",
    "msExchResourceMetaData",
    "msExchResourceSearchProperties",
    "msExchRetentionComment",
    "msExchRetentionURL",
    "msExchSafeRecipientsHash",
    "msExchSafeSendersHash",
    "msExchSenderHintTranslations",
    "msExchTeamMailboxExpiration",
    "msExchTeamMailboxOwners",
    "msExchTeamMailboxSharePointUrl",
    "msExchUsageLocation",
    "msExchUserCulture",
    "msExchUserHoldPolicies",
    "msExchVersion",
    "msExchWhenMailboxCreated",
    "msExchMailboxSecurityDescriptor",
    "msExchGroupMemberCount",
    "msExchGroupExternalMemberCount",
    // Skype for Business / Lync.
    "msRTCSIP-DeploymentLocator",
    "msRTCSIP-Line",
    "msRTCSIP-OptionFlags",
    "msRTCSIP-OriginatorSid",
    "msRTCSIP-OwnerUrn",
    "msRTCSIP-PrimaryUserAddress",
    "msRTCSIP-UserEnabled",
    // Groups.
    "groupType",
    "member",
    "managedBy",
    "groupMembershipSAM",
    "msDS-AzureADProxyAddresses",
    "msDS-AzureADMailNickname",
    // Computers and devices.
    "dNSHostName",
    "operatingSystem",
    "operatingSystemVersion",
    "operatingSystemServicePack",
    "operatingSystemHotfix",
    "msDS-AdditionalDnsHostName",
    "msDS-isGC",
    "msDS-isRODC",
    "machineRole",
    "managedObjects",
    "networkAddress",
    "location",
    "msDS-DeviceID",
    "msDS-CloudAnchor",
    "msDS-IsEnabled",
    "msDS-DeviceOSType",
    "msDS-DeviceOSVersion",
    "msDS-RegisteredOwner",
    "msDS-RegisteredUsers",
    "msDS-DeviceTrustType",
    "msDS-ApproximateLastLogonTimeStamp",
    "msDS-IsManaged",
    "msDS-IsCompliant",
    "msDS-CloudIsEnabled",
    "msDS-CloudIsManaged",
    "msDS-CloudIsCompliant",
    // Foreign security principals and trusts.
    "foreignIdentifier",
];

/// Why Graph refuses the onPremises* properties.
const ON_PREMISES_READ_ONLY: &str = "it is read-only in Microsoft Graph: only Microsoft's own sync channel sets the \
     onPremises* properties (onPremisesImmutableId excepted)";

static AD_INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    AD_ATTRIBUTES
        .iter()
        .chain(AD_PSEUDO)
        .map(|name| (name.to_ascii_lowercase(), *name))
        .collect()
});

/// The canonical spelling of a well-known AD attribute (or `dn`), looked up case-insensitively.
pub fn ad_attribute(name: &str) -> Option<&'static str> {
    AD_INDEX.get(&name.to_ascii_lowercase()).copied()
}

/// The connection parameters expressions may use (`%Domain.FQDN%`).
pub const PARAMETERS: &[&str] = &[
    "Domain.Netbios",
    "Domain.FQDN",
    "Domain.LDAP",
    "Forest.Netbios",
    "Forest.FQDN",
    "Forest.LDAP",
    "Connector.ID",
];

/// The canonical spelling of a parameter, looked up case-insensitively.
pub fn parameter(name: &str) -> Option<&'static str> {
    PARAMETERS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(name))
}

/// The Graph object types outbound rules to the tenant can write.
pub const GRAPH_OBJECT_TYPES: &[&str] = &["user", "group"];

/// Microsoft Graph user properties hybridsync writes (`onPremisesExtensionAttributes.
/// extensionAttributeN` is written as `extensionAttributeN`).
const GRAPH_USER_WRITABLE: &[AttrDef] = &[
    one("accountEnabled", Bool),
    one("displayName", Str),
    one("givenName", Str),
    one("surname", Str),
    one("userPrincipalName", Str),
    one("mailNickname", Str),
    one("mail", Str),
    one("onPremisesImmutableId", Str),
    one("usageLocation", Str),
    one("jobTitle", Str),
    one("department", Str),
    one("companyName", Str),
    one("employeeId", Str),
    one("employeeType", Str),
    one("officeLocation", Str),
    many("businessPhones", Str),
    one("mobilePhone", Str),
    one("faxNumber", Str),
    one("streetAddress", Str),
    one("city", Str),
    one("state", Str),
    one("postalCode", Str),
    one("country", Str),
    one("preferredLanguage", Str),
    many("otherMails", Str),
    one("extensionAttribute1", Str),
    one("extensionAttribute2", Str),
    one("extensionAttribute3", Str),
    one("extensionAttribute4", Str),
    one("extensionAttribute5", Str),
    one("extensionAttribute6", Str),
    one("extensionAttribute7", Str),
    one("extensionAttribute8", Str),
    one("extensionAttribute9", Str),
    one("extensionAttribute10", Str),
    one("extensionAttribute11", Str),
    one("extensionAttribute12", Str),
    one("extensionAttribute13", Str),
    one("extensionAttribute14", Str),
    one("extensionAttribute15", Str),
    one("employeeHireDate", Dt),
    one("manager", Ref),
];

/// Microsoft Graph group properties hybridsync writes.
const GRAPH_GROUP_WRITABLE: &[AttrDef] = &[
    one("displayName", Str),
    one("description", Str),
    one("mailNickname", Str),
    one("mailEnabled", Bool),
    one("securityEnabled", Bool),
    many("groupTypes", Str),
    many("members", Ref),
];

/// Graph properties that can be read (joins, inbound rules from the tenant) but not written.
const GRAPH_READ_ONLY: &[(&str, &str)] = &[
    ("id", "Entra ID assigns an object's id; it is read-only"),
    (
        "createdDateTime",
        "Entra ID sets it when the object is created; it is read-only",
    ),
    (
        "proxyAddresses",
        "Microsoft Graph treats proxyAddresses as read-only (Exchange Online manages them)",
    ),
    (
        "onPremisesSyncEnabled",
        "it is read-only in Microsoft Graph: objects created through Graph are always \
         cloud-managed",
    ),
    ("onPremisesSamAccountName", ON_PREMISES_READ_ONLY),
    ("onPremisesSecurityIdentifier", ON_PREMISES_READ_ONLY),
    ("onPremisesDistinguishedName", ON_PREMISES_READ_ONLY),
    ("onPremisesDomainName", ON_PREMISES_READ_ONLY),
    ("onPremisesUserPrincipalName", ON_PREMISES_READ_ONLY),
    ("onPremisesNetBiosName", ON_PREMISES_READ_ONLY),
    ("onPremisesLastSyncDateTime", ON_PREMISES_READ_ONLY),
    (
        "onPremisesProvisioningErrors",
        "Entra ID records provisioning errors itself; the property is read-only",
    ),
];

/// Property names that mean passwords or password hashes.
const PASSWORD_NAMES: &[&str] = &[
    "passwordProfile",
    "password",
    "passwordHash",
    "passwordHashes",
    "unicodePwd",
    "userPassword",
    "ntHash",
    "dBCSPwd",
    "supplementalCredentials",
];

const PASSWORD_REASON: &str = "Microsoft Graph has no way to deliver password hashes and \
     hybridsync never holds cleartext passwords; password hash sync needs a target that accepts \
     hashes";

const EXCHANGE_REASON: &str = "it is an Exchange attribute, and Microsoft Graph cannot write \
     Exchange attributes (Exchange Online manages them)";

/// The writable Graph properties of `object_type` (`user` or `group`).
pub fn graph_writable(object_type: &str) -> &'static [AttrDef] {
    if object_type.eq_ignore_ascii_case("user") {
        GRAPH_USER_WRITABLE
    } else if object_type.eq_ignore_ascii_case("group") {
        GRAPH_GROUP_WRITABLE
    } else {
        &[]
    }
}

/// A writable Graph property of `object_type`, looked up case-insensitively.
pub fn graph_writable_property(object_type: &str, name: &str) -> Option<AttrDef> {
    graph_writable(object_type)
        .iter()
        .copied()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Why a Graph property cannot be written, when it is one hybridsync knows to be read-only
/// (for this object type: `mail` is writable on users but read-only on groups).
pub fn graph_read_only_reason(object_type: &str, name: &str) -> Option<&'static str> {
    if PASSWORD_NAMES.iter().any(|p| p.eq_ignore_ascii_case(name)) {
        return Some(PASSWORD_REASON);
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("msexch")
        || lower == "targetaddress"
        || lower == "legacyexchangedn"
        || lower == "publicdelegates"
    {
        return Some(EXCHANGE_REASON);
    }
    if object_type.eq_ignore_ascii_case("group") && lower == "mail" {
        return Some(
            "a group's mail address is read-only in Microsoft Graph (Exchange Online assigns it)",
        );
    }
    GRAPH_READ_ONLY
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(name))
        .map(|(_, why)| *why)
}

/// Whether a Graph property of `object_type` can be read (for joins and inbound rules from
/// the tenant): every writable property and the known read-only ones.
pub fn graph_readable(object_type: &str, name: &str) -> bool {
    graph_writable_property(object_type, name).is_some()
        || GRAPH_READ_ONLY
            .iter()
            .any(|(p, _)| p.eq_ignore_ascii_case(name))
        || (object_type.eq_ignore_ascii_case("group") && name.eq_ignore_ascii_case("mail"))
}

/// The candidate closest to `name` (case-insensitive edit distance), if it is close enough to be
/// a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_ascii_lowercase();
    let limit = (wanted.chars().count() / 4).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AttributeName;

    #[test]
    fn every_name_is_a_valid_attribute_name_and_listed_once_per_schema() {
        for ty in MvObjectType::ALL {
            let defs = mv_attributes(ty);
            for (i, d) in defs.iter().enumerate() {
                assert!(AttributeName::new(d.name).is_ok(), "{}", d.name);
                assert!(
                    !defs[..i]
                        .iter()
                        .any(|o| o.name.eq_ignore_ascii_case(d.name)),
                    "{ty}: {} twice",
                    d.name
                );
            }
        }
        for (i, name) in AD_ATTRIBUTES.iter().enumerate() {
            assert!(AttributeName::new(name).is_ok(), "{name}");
            assert!(
                !AD_ATTRIBUTES[..i]
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(name)),
                "{name} twice"
            );
        }
        for ty in GRAPH_OBJECT_TYPES {
            for d in graph_writable(ty) {
                assert!(AttributeName::new(d.name).is_ok(), "{}", d.name);
                assert!(graph_read_only_reason(ty, d.name).is_none(), "{}", d.name);
            }
        }
    }

    #[test]
    fn the_ad_list_is_a_few_hundred_names() {
        assert!(AD_ATTRIBUTES.len() > 250, "{}", AD_ATTRIBUTES.len());
    }

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(ad_attribute("SAMACCOUNTNAME"), Some("sAMAccountName"));
        assert_eq!(ad_attribute("dn"), Some("dn"));
        assert!(mv_attribute(MvObjectType::Person, "USERPRINCIPALNAME").is_some());
        assert!(mv_attribute(MvObjectType::Group, "accountEnabled").is_none());
        assert_eq!(
            graph_writable_property("User", "MAIL").map(|d| d.name),
            Some("mail")
        );
        assert_eq!(parameter("domain.fqdn"), Some("Domain.FQDN"));
    }

    #[test]
    fn graph_read_only_properties_say_why() {
        assert!(graph_read_only_reason("user", "proxyAddresses").is_some());
        assert!(graph_read_only_reason("user", "onPremisesSamAccountName").is_some());
        assert!(graph_read_only_reason("user", "passwordProfile").is_some());
        assert!(graph_read_only_reason("group", "mail").is_some());
        assert!(graph_read_only_reason("user", "mail").is_none());
        assert!(graph_read_only_reason("user", "msExchMailboxGuid").is_some());
        assert!(graph_readable("user", "onPremisesImmutableId"));
        assert!(graph_readable("user", "id"));
    }

    #[test]
    fn closest_finds_typos_only() {
        let names = ["displayName", "givenName", "sn"];
        assert_eq!(closest("dispalyName", names), Some("displayName"));
        assert_eq!(closest("favouriteColour", names), None);
    }
}
