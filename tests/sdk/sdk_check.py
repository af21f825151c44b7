"""Drive the hybridsync tenant emulator with Microsoft's own Python SDKs (msal, msgraph-sdk).

Covers msal's client credentials (secret, certificate RS256/PS256) and device flow (with the id
token msal validates and a refresh through acquire_token_silent), and msgraph-sdk on users,
groups, members, paging, filters, errors, delta and restore.

Usage: python sdk_check.py BOOTSTRAP_JSON
The bootstrap file is written by `hybridsync tenant-emulator --bootstrap-out`. The CA file it
names must be trusted: the harness sets REQUESTS_CA_BUNDLE (msal/requests) and SSL_CERT_FILE, and
this script hands httpx an SSL context built from it. Any failure raises, so the exit status is
non-zero; each step prints one "ok ..." line.
"""

import asyncio
import json
import ssl
import sys
import threading
import time
import uuid

import httpx
import msal
import requests
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core import GraphClientFactory
from msgraph_core.tasks.page_iterator import PageIterator
from kiota_abstractions.base_request_configuration import RequestConfiguration

SCOPE = ["https://graph.microsoft.com/.default"]


def step(msg):
    print("ok", msg, flush=True)


def acquire_tokens(b):
    app = b["application"]
    # 1. Client secret, with instance discovery answered by the emulator itself.
    cca = msal.ConfidentialClientApplication(
        app["clientId"],
        client_credential=app["clientSecret"],
        authority=b["authority"],
        instance_discovery=b["instanceDiscoveryEndpoint"],
    )
    r = cca.acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in r, r
    step("msal client secret (instance discovery by the emulator)")

    # 2. Certificate, SHA-1 thumbprint: RS256 + x5t.
    cca = msal.ConfidentialClientApplication(
        app["clientId"],
        client_credential={"private_key": app["privateKeyPem"], "thumbprint": app["thumbprintSha1"]},
        authority=b["authority"],
        instance_discovery=False,
    )
    r = cca.acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in r, r
    step("msal certificate RS256 x5t")

    # 3. Certificate with public certificate: PS256 + x5t#S256 (current Microsoft default).
    cca = msal.ConfidentialClientApplication(
        app["clientId"],
        client_credential={"private_key": app["privateKeyPem"], "public_certificate": app["certificatePem"]},
        authority=b["authority"],
        validate_authority=False,
    )
    r = cca.acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in r, r
    cert_token = r["access_token"]
    step("msal certificate PS256 x5t#S256")

    # 4. A wrong secret is refused with the identity platform's error shape.
    cca = msal.ConfidentialClientApplication(
        app["clientId"], client_credential="wrong", authority=b["authority"], instance_discovery=False
    )
    r = cca.acquire_token_for_client(scopes=SCOPE)
    assert r.get("error") == "invalid_client", r
    assert 7000215 in r.get("error_codes", []), r
    step("msal wrong secret -> invalid_client AADSTS7000215")
    return cert_token


def device_flow(b):
    """msal's device flow: a thread plays the user and approves the code through the emulator's
    approval endpoint while msal polls; then the refresh token renews the access token."""
    app = b["application"]
    pca = msal.PublicClientApplication(
        app["clientId"], authority=b["authority"], instance_discovery=b["instanceDiscoveryEndpoint"]
    )
    scopes = ["https://graph.microsoft.com/User.Read.All"]
    flow = pca.initiate_device_flow(scopes=scopes)
    assert "user_code" in flow and "verification_uri" in flow, flow
    upn = "admin@" + b["initialDomain"]
    approved = {}

    def approve():
        time.sleep(1)
        r = requests.post(
            b["baseUrl"] + "/_emulator/devicecode/approve",
            json={"user_code": flow["user_code"], "user": upn},
            verify=b["caFile"],
            timeout=30,
        )
        approved["status"] = r.status_code

    t = threading.Thread(target=approve)
    t.start()
    r = pca.acquire_token_by_device_flow(flow)
    t.join()
    assert approved.get("status") == 200, approved
    assert "access_token" in r, r
    claims = r.get("id_token_claims") or {}
    assert claims.get("preferred_username") == upn, claims
    assert claims.get("aud") == app["clientId"] and claims.get("tid") == b["tenantId"], claims
    assert "nonce" not in claims, claims
    assert r.get("refresh_token"), sorted(r)
    step("msal device flow (id token validated by msal, refresh token)")

    accounts = pca.get_accounts(username=upn)
    assert len(accounts) == 1, accounts
    r2 = pca.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
    assert r2 and "access_token" in r2, r2
    assert r2["access_token"] != r["access_token"]
    step("msal acquire_token_silent(force_refresh=True) redeems the refresh token")
    return r2["access_token"]


class StaticToken(AccessTokenProvider):
    def __init__(self, token, host):
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token

    def get_allowed_hosts_validator(self):
        return self.validator


def graph_client(b, token):
    ctx = ssl.create_default_context(cafile=b["caFile"])
    host = b["baseUrl"].split("://", 1)[1]
    http = httpx.AsyncClient(verify=ctx, base_url=b["graphBaseUrl"], timeout=30)
    http = GraphClientFactory.create_with_default_middleware(client=http)
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(StaticToken(token, host.split(":")[0])), client=http
    )
    adapter.base_url = b["graphBaseUrl"]
    return GraphServiceClient(request_adapter=adapter)


async def graph_checks(b, token):
    client = graph_client(b, token)
    domain = b["initialDomain"]
    run = uuid.uuid4().hex[:8]

    org = await client.organization.get()
    assert org.value[0].id == b["tenantId"], org
    domains = await client.domains.get()
    assert any(d.id == domain and d.is_verified for d in domains.value)
    step("organization and domains")

    ids = []
    for i in range(5):
        u = await client.users.post(User(
            account_enabled=True,
            display_name=f"sdk-{run}-{i}",
            mail_nickname=f"sdk{run}{i}",
            user_principal_name=f"sdk{run}{i}@{domain}",
            on_premises_immutable_id=f"imm{run}{i}+/=",
            password_profile=PasswordProfile(password="P@ssw0rd!x", force_change_password_next_sign_in=False),
        ))
        assert u.id and u.user_principal_name == f"sdk{run}{i}@{domain}"
        ids.append(u.id)
    step("create 5 users")

    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        search=f'"displayName:sdk-{run}"', count=True, select=["id", "displayName"]))
    cfg.headers.add("ConsistencyLevel", "eventual")
    r = await client.users.get(request_configuration=cfg)
    assert sorted(u.id for u in r.value) == sorted(ids) and r.odata_count == 5, r
    step("$search with ConsistencyLevel: eventual and $count")

    # Paging: $top=2 gives several pages; PageIterator follows @odata.nextLink.
    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        top=2, filter=f"startswith(displayName,'sdk-{run}')", select=["id", "displayName"]))
    first = await client.users.get(request_configuration=cfg)
    assert len(first.value) == 2 and first.odata_next_link, first
    seen = []
    it = PageIterator(first, client.request_adapter)
    def collect(u):
        seen.append(u["displayName"] if isinstance(u, dict) else u.display_name)
        return True
    await it.iterate(collect)
    assert sorted(seen) == sorted(f"sdk-{run}-{i}" for i in range(5)), seen
    step("list with $top=2 and paging through nextLink (PageIterator)")

    # Paging by hand with with_url.
    page, total = first, 0
    while True:
        total += len(page.value)
        if not page.odata_next_link:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    assert total == 5, total
    step("paging by hand with with_url(nextLink)")

    # Filters the engine uses.
    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"onPremisesImmutableId eq 'imm{run}2+/='",
        select=["id", "userPrincipalName", "onPremisesImmutableId"]))
    r = await client.users.get(request_configuration=cfg)
    assert [u.id for u in r.value] == [ids[2]], r.value
    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"userPrincipalName in ('sdk{run}0@{domain}', 'sdk{run}4@{domain}')"))
    r = await client.users.get(request_configuration=cfg)
    assert sorted(u.id for u in r.value) == sorted([ids[0], ids[4]])
    step("$filter eq on onPremisesImmutableId (+/= escaped) and in() on userPrincipalName")

    # $count with ConsistencyLevel: eventual.
    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"startswith(displayName,'sdk-{run}')", count=True))
    cfg.headers.add("ConsistencyLevel", "eventual")
    r = await client.users.get(request_configuration=cfg)
    assert r.odata_count == 5, r.odata_count
    step("$count=true with ConsistencyLevel: eventual")

    await client.users.by_user_id(ids[1]).patch(User(job_title="Engineer", department="R&D"))
    u = await client.users.by_user_id(ids[1]).get()
    assert u.job_title == "Engineer" and u.department is None  # department is not a default property
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
    cfg = RequestConfiguration(query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=["jobTitle", "department"]))
    u = await client.users.by_user_id(ids[1]).get(request_configuration=cfg)
    assert (u.job_title, u.department) == ("Engineer", "R&D"), u
    step("update a user and read it back with $select")

    try:
        await client.users.post(User(
            account_enabled=True, display_name="dup", mail_nickname="dup",
            user_principal_name=f"sdk{run}0@{domain}",
            password_profile=PasswordProfile(password="P@ssw0rd!x")))
        raise AssertionError("duplicate UPN was accepted")
    except ODataError as e:
        assert e.response_status_code == 400, e.response_status_code
        assert e.error.code == "Request_BadRequest", e.error.code
        assert e.error.message == "Another object with the same value for property userPrincipalName already exists.", e.error.message
        assert e.error.inner_error is not None and e.error.inner_error.request_id
    step("duplicate userPrincipalName -> 400 Request_BadRequest ObjectConflict (ODataError)")

    try:
        await client.users.by_user_id(str(uuid.uuid4())).get()
        raise AssertionError("missing user was found")
    except ODataError as e:
        assert e.response_status_code == 404 and e.error.code == "Request_ResourceNotFound", e.error.code
    step("missing user -> 404 Request_ResourceNotFound")

    # Delta: initial round to a deltaLink, then only the changes.
    d = await client.users.delta.get()
    while d.odata_next_link:
        d = await client.users.delta.with_url(d.odata_next_link).get()
    assert d.odata_delta_link, d
    delta_link = d.odata_delta_link
    await client.users.by_user_id(ids[3]).patch(User(display_name=f"sdk-{run}-3-renamed"))

    g = await client.groups.post(Group(
        display_name=f"sdk-group-{run}", mail_enabled=False, mail_nickname=f"sdkgroup{run}",
        security_enabled=True, group_types=[]))
    assert g.id
    for uid in ids[:3]:
        await client.groups.by_group_id(g.id).members.ref.post(
            ReferenceCreate(odata_id=f"{b['graphBaseUrl']}/directoryObjects/{uid}"))
    members = await client.groups.by_group_id(g.id).members.get()
    assert sorted(m.id for m in members.value) == sorted(ids[:3]), members.value
    await client.groups.by_group_id(g.id).members.by_directory_object_id(ids[0]).ref.delete()
    members = await client.groups.by_group_id(g.id).members.get()
    assert sorted(m.id for m in members.value) == sorted(ids[1:3])
    step("create a security group, add members with $ref, list and remove one")

    m365 = await client.groups.post(Group(
        display_name=f"sdk-m365-{run}", mail_enabled=True, mail_nickname=f"sdkm365{run}",
        security_enabled=False, group_types=["Unified"],
        additional_data={"members@odata.bind": [f"{b['graphBaseUrl']}/directoryObjects/{ids[4]}"]}))
    assert m365.mail == f"sdkm365{run}@{domain}", m365.mail
    members = await client.groups.by_group_id(m365.id).members.get()
    assert [m.id for m in members.value] == [ids[4]]
    step("create a Microsoft 365 group with members@odata.bind")

    await client.users.by_user_id(ids[4]).delete()
    d = await client.users.delta.with_url(delta_link).get()
    changed = {u.id: u for u in d.value}
    assert ids[3] in changed and changed[ids[3]].display_name == f"sdk-{run}-3-renamed", d.value
    assert ids[4] in changed and (changed[ids[4]].additional_data or {}).get("@removed"), changed[ids[4]]
    assert ids[0] not in changed
    step("delta query: deltaLink returns only the renamed and the deleted user")

    deleted = await client.directory.deleted_items.graph_user.get()
    assert ids[4] in [x.id for x in deleted.value]
    await client.directory.deleted_items.by_directory_object_id(ids[4]).restore.post()
    u = await client.users.by_user_id(ids[4]).get()
    assert u.id == ids[4]
    members = await client.groups.by_group_id(m365.id).members.get()
    assert [m.id for m in members.value] == [ids[4]], "restore brings group memberships back"
    step("soft delete, list deleted users, restore (with memberships)")

    for uid in ids:
        await client.users.by_user_id(uid).delete()
    await client.groups.by_group_id(g.id).delete()
    await client.groups.by_group_id(m365.id).delete()
    cfg = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"startswith(displayName,'sdk-{run}')"))
    r = await client.users.get(request_configuration=cfg)
    assert r.value == [], r.value
    step("delete users and groups")


async def delegated_read(b, token):
    client = graph_client(b, token)
    users = await client.users.get()
    assert users.value is not None
    step("msgraph-sdk with the device flow's delegated token")


def main():
    with open(sys.argv[1]) as f:
        b = json.load(f)
    token = acquire_tokens(b)
    delegated = device_flow(b)
    asyncio.run(delegated_read(b, delegated))
    asyncio.run(graph_checks(b, token))
    print("all SDK checks passed", flush=True)


if __name__ == "__main__":
    main()
