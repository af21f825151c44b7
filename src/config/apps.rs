//! App and attribute filtering (`[features.app_and_attribute_filtering]`): which source
//! attributes never reach the rules. Two sources, as in Entra Connect's two wizard pages: the
//! attributes the admin cleared (`excluded_attributes`), and the attributes that only cloud
//! services the admin did not choose use (`apps`). [`effective_excluded`] is what the engine
//! applies (`CycleOptions::excluded_attributes`).
//!
//! The per-service lists are the attributes the shipped rules read that only that service uses
//! (after Microsoft's "Attributes synchronized by Microsoft Entra Connect" tables): Exchange
//! Online's address-book, delivery-restriction and mailbox attributes, SharePoint Online's
//! phonetic names and web addresses, Skype for Business (Lync) Online's phone and SIP attributes.
//! The other services (Microsoft 365 Apps, Azure RMS, Intune, Dynamics CRM, third-party
//! applications) use only attributes every service needs, so choosing or leaving them changes
//! nothing by itself.
//!
//! Invariants: an attribute in [`MANDATORY`] is never excluded (identity, join, scoping and
//! anchor inputs); an attribute is excluded because of apps only when some service lists it and
//! no chosen service does; an empty `apps` list means no app filtering (every service); nothing
//! is excluded while the feature is off.

use crate::config::model::{AppAndAttributeFiltering, CloudApp};
use crate::domain::AttributeName;

/// Every cloud service, in the order the wizard lists them.
pub const ALL: [CloudApp; 8] = [
    CloudApp::Office365Proplus,
    CloudApp::ExchangeOnline,
    CloudApp::SharepointOnline,
    CloudApp::LyncOnline,
    CloudApp::AzureRms,
    CloudApp::Intune,
    CloudApp::DynamicsCrm,
    CloudApp::ThirdPartyApplications,
];

/// The object types attribute filtering knows (`user.title`, `group.info`, `contact.mail`).
pub const CLASSES: [&str; 3] = ["user", "group", "contact"];

/// Attributes that can never be filtered: the entry's name and class, the source anchor and
/// identity, joins, the scoping and cloud-filtering inputs, and group membership.
pub const MANDATORY: &[&str] = &[
    "dn",
    "distinguishedName",
    "objectClass",
    "objectGUID",
    "mS-DS-ConsistencyGuid",
    "objectSid",
    "sAMAccountName",
    "userPrincipalName",
    "isCriticalSystemObject",
    "cn",
    "mail",
    "mailNickname",
    "proxyAddresses",
    "targetAddress",
    "userAccountControl",
    "pwdLastSet",
    "groupType",
    "member",
    "msExchRecipientTypeDetails",
    "msExchMasterAccountSid",
];

const EXCHANGE: &[&str] = &[
    "authOrig",
    "dLMemRejectPerms",
    "dLMemSubmitPerms",
    "publicDelegates",
    "unauthOrig",
    "oOFReplyToOriginator",
    "reportToOriginator",
    "reportToOwner",
    "hideDLMembership",
    "msOrg-IsOrganizational",
    "legacyExchangeDN",
    "thumbnailPhoto",
    "msDS-HABSeniorityIndex",
    "msExchArchiveGUID",
    "msExchArchiveName",
    "msExchAssistantName",
    "msExchAuditAdmin",
    "msExchAuditDelegate",
    "msExchAuditDelegateAdmin",
    "msExchAuditOwner",
    "msExchBlockedSendersHash",
    "msExchBypassAudit",
    "msExchBypassModerationFromDLMembersLink",
    "msExchBypassModerationLink",
    "msExchCoManagedByLink",
    "msExchDelegateListLink",
    "msExchELCExpirySuspensionEnd",
    "msExchELCExpirySuspensionStart",
    "msExchELCMailboxFlags",
    "msExchEnableModeration",
    "msExchExtensionCustomAttribute1",
    "msExchExtensionCustomAttribute2",
    "msExchExtensionCustomAttribute3",
    "msExchExtensionCustomAttribute4",
    "msExchExtensionCustomAttribute5",
    "msExchGroupDepartRestriction",
    "msExchGroupJoinRestriction",
    "msExchHideFromAddressLists",
    "msExchLitigationHoldDate",
    "msExchLitigationHoldOwner",
    "msExchMailboxAuditEnable",
    "msExchMailboxAuditLogAgeLimit",
    "msExchMailboxGuid",
    "msExchModeratedByLink",
    "msExchModerationFlags",
    "msExchRecipientDisplayType",
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
    "msExchUserHoldPolicies",
];

const SHAREPOINT: &[&str] = &[
    "msDS-PhoneticCompanyName",
    "msDS-PhoneticDepartment",
    "msDS-PhoneticDisplayName",
    "msDS-PhoneticFirstName",
    "msDS-PhoneticLastName",
    "thumbnailPhoto",
    "url",
    "wWWHomePage",
];

const LYNC: &[&str] = &[
    "ipPhone",
    "otherIpPhone",
    "thumbnailPhoto",
    "msExchHideFromAddressLists",
    "msRTCSIP-DeploymentLocator",
    "msRTCSIP-Line",
    "msRTCSIP-OptionFlags",
    "msRTCSIP-OwnerUrn",
    "msRTCSIP-PrimaryUserAddress",
    "msRTCSIP-UserEnabled",
];

/// The attributes only this service (among all services) needs beyond the common ones.
pub fn attributes(app: CloudApp) -> &'static [&'static str] {
    match app {
        CloudApp::ExchangeOnline => EXCHANGE,
        CloudApp::SharepointOnline => SHAREPOINT,
        CloudApp::LyncOnline => LYNC,
        CloudApp::Office365Proplus
        | CloudApp::AzureRms
        | CloudApp::Intune
        | CloudApp::DynamicsCrm
        | CloudApp::ThirdPartyApplications => &[],
    }
}

/// The spelling in the configuration and answer files (`exchange-online`).
pub fn key(app: CloudApp) -> &'static str {
    match app {
        CloudApp::Office365Proplus => "office365-proplus",
        CloudApp::ExchangeOnline => "exchange-online",
        CloudApp::SharepointOnline => "sharepoint-online",
        CloudApp::LyncOnline => "lync-online",
        CloudApp::AzureRms => "azure-rms",
        CloudApp::Intune => "intune",
        CloudApp::DynamicsCrm => "dynamics-crm",
        CloudApp::ThirdPartyApplications => "third-party-applications",
    }
}

/// The service written `text` (case-insensitive), if any.
pub fn parse(text: &str) -> Option<CloudApp> {
    ALL.into_iter().find(|a| key(*a).eq_ignore_ascii_case(text))
}

/// Whether `attr` can never be filtered.
pub fn is_mandatory(attr: &str) -> bool {
    MANDATORY.iter().any(|m| m.eq_ignore_ascii_case(attr))
}

/// The services among `apps` that need `attr` specifically.
pub fn needed_by(attr: &str, apps: &[CloudApp]) -> Vec<CloudApp> {
    apps.iter()
        .copied()
        .filter(|a| attributes(*a).iter().any(|x| x.eq_ignore_ascii_case(attr)))
        .collect()
}

/// Whether choosing only `chosen` keeps `attr` from synchronizing: some service needs it, none
/// of the chosen ones does, and it is not mandatory. An empty `chosen` filters nothing.
pub fn excluded_by_apps(attr: &str, chosen: &[CloudApp]) -> bool {
    !chosen.is_empty()
        && !is_mandatory(attr)
        && !needed_by(attr, &ALL).is_empty()
        && needed_by(attr, chosen).is_empty()
}

/// Every (class, attribute) the engine must drop: the cleared attributes, plus for each object
/// type the attributes only unchosen services need. Empty while the feature is off. Entries
/// that do not parse as `class.attribute` are skipped (the configuration check reports them).
pub fn effective_excluded(f: &AppAndAttributeFiltering) -> Vec<(String, AttributeName)> {
    if !f.enabled {
        return Vec::new();
    }
    let mut out: Vec<(String, AttributeName)> = Vec::new();
    let mut push = |class: &str, attr: &str| {
        if is_mandatory(attr) {
            return;
        }
        let Ok(a) = AttributeName::new(attr) else {
            return;
        };
        if !out
            .iter()
            .any(|(c, x)| c.eq_ignore_ascii_case(class) && *x == a)
        {
            out.push((class.to_ascii_lowercase(), a));
        }
    };
    for e in &f.excluded_attributes {
        if let Some((class, attr)) = e.split_once('.') {
            push(class, attr);
        }
    }
    let mut app_only: Vec<&str> = ALL.iter().flat_map(|a| attributes(*a)).copied().collect();
    app_only.sort_unstable_by_key(|a| a.to_ascii_lowercase());
    app_only.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    for attr in app_only {
        if excluded_by_apps(attr, &f.apps) {
            for class in CLASSES {
                push(class, attr);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtering(apps: &[CloudApp], excluded: &[&str]) -> AppAndAttributeFiltering {
        AppAndAttributeFiltering {
            enabled: true,
            apps: apps.to_vec(),
            excluded_attributes: excluded.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn has(v: &[(String, AttributeName)], class: &str, attr: &str) -> bool {
        v.iter().any(|(c, a)| c == class && a.eq_ignore_case(attr))
    }

    #[test]
    fn keys_are_the_configuration_spelling() {
        for app in ALL {
            let toml = toml::to_string(&filtering(&[app], &[])).unwrap();
            assert!(toml.contains(&format!("\"{}\"", key(app))), "{toml}");
            assert_eq!(parse(&key(app).to_uppercase()), Some(app));
        }
        assert_eq!(parse("exchange"), None);
    }

    #[test]
    fn leaving_out_exchange_drops_exchange_only_attributes_for_every_object_type() {
        let v = effective_excluded(&filtering(&[CloudApp::Office365Proplus], &[]));
        for class in CLASSES {
            assert!(has(&v, class, "msExchHideFromAddressLists"), "{class}");
            assert!(has(&v, class, "authOrig"), "{class}");
            assert!(has(&v, class, "url"), "SharePoint is not chosen either");
        }
        // Mandatory inputs stay even though Exchange uses them.
        assert!(!has(&v, "user", "msExchRecipientTypeDetails"));
        assert!(!has(&v, "user", "mailNickname"));
        // Attributes every service needs stay.
        assert!(!has(&v, "user", "title"));
    }

    #[test]
    fn an_attribute_a_chosen_service_needs_stays() {
        // thumbnailPhoto: Exchange, SharePoint and Lync; Lync alone keeps it.
        let v = effective_excluded(&filtering(&[CloudApp::LyncOnline], &[]));
        assert!(!has(&v, "user", "thumbnailPhoto"));
        assert!(
            !has(&v, "user", "msExchHideFromAddressLists"),
            "Lync uses it"
        );
        assert!(has(&v, "user", "msExchMailboxGuid"));
        assert!(has(&v, "user", "wWWHomePage"));
    }

    #[test]
    fn cleared_attributes_are_kept_as_written_but_mandatory_ones_never() {
        let v = effective_excluded(&filtering(&[], &["user.title", "group.objectGUID"]));
        assert!(has(&v, "user", "title"));
        assert!(!has(&v, "group", "objectGUID"));
        // No apps listed: no app filtering.
        assert!(!has(&v, "user", "msExchMailboxGuid"));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn nothing_is_excluded_while_off() {
        let mut f = filtering(&[CloudApp::Intune], &["user.title"]);
        f.enabled = false;
        assert!(effective_excluded(&f).is_empty());
    }
}
