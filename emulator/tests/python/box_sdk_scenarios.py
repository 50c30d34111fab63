"""Box's official Python SDK (boxsdk, module box_sdk_gen), unchanged, against the emulator.

Usage: box_sdk_scenarios.py SCENARIO BASE_URL CREDENTIAL

BASE_URL is the emulator's address (http://127.0.0.1:PORT); the SDK is configured only with
its own base-URL options and appends /2.0/... (and /oauth2/token) itself. CREDENTIAL is a
developer token, or for the `ccg` and `jwt` scenarios the path of a Box app config JSON
(as Box's developer console downloads it). Each scenario asserts on what the SDK
returns and prints one JSON line of ids and SHA-1s for the Rust test to check against the
emulator's store.
"""

import hashlib
import io
import json
import sys
import time

from box_sdk_gen import (
    BoxAPIError,
    BoxCCGAuth,
    BoxClient,
    BoxDeveloperTokenAuth,
    BoxJWTAuth,
    CCGConfig,
    JWTConfig,
)
from box_sdk_gen.managers.folders import CreateFolderParent
from box_sdk_gen.managers.uploads import (
    PreflightFileUploadCheckParent,
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
    UploadWithPreflightCheckAttributes,
    UploadWithPreflightCheckAttributesParentField,
)
from box_sdk_gen.networking.base_urls import BaseUrls


# The token TTL the Rust test gives the emulator for `ccg_expiry`.
EXPIRY_TTL_SECS = 3


def client(base_url, auth):
    urls = BaseUrls(
        base_url=base_url,
        upload_url=base_url + "/api",
        oauth_2_url=base_url + "/oauth2",
    )
    return BoxClient(auth=auth).with_custom_base_urls(urls)


def content(size, seed):
    """Deterministic bytes that do not repeat."""
    out = bytearray()
    block = seed.to_bytes(4, "big")
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def expect_api_error(status, code, call):
    try:
        call()
    except BoxAPIError as error:
        info = error.response_info
        assert info.status_code == status, (info.status_code, info.code, info.body)
        assert info.code == code, (info.code, info.body)
        return info
    raise AssertionError(f"expected {status} {code}, the call succeeded")


def upload(box):
    """uploads.upload_file (with content-md5), an empty file, a name clash, a new version
    with if-match, a stale if-match, the preflight check and upload_with_preflight_check."""
    data = content(70_001, 1)
    files = box.uploads.upload_file(
        UploadFileAttributes(name="small.bin", parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(data),
        content_md_5=sha1(data),
    )
    assert files.total_count == 1, files.total_count
    small = files.entries[0]
    assert (small.name, small.size, small.sha_1) == ("small.bin", len(data), sha1(data))
    assert small.parent.id == "0" and small.file_version.sha_1 == sha1(data)

    empty = box.uploads.upload_file(
        UploadFileAttributes(name="empty.txt", parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(b""),
    ).entries[0]
    assert (empty.size, empty.sha_1) == (0, sha1(b""))

    clash = expect_api_error(409, "item_name_in_use", lambda: box.uploads.upload_file(
        UploadFileAttributes(name="SMALL.bin", parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(b"x"),
    ))
    assert clash.context_info["conflicts"]["id"] == small.id, clash.context_info
    expect_api_error(400, "bad_digest", lambda: box.uploads.upload_file(
        UploadFileAttributes(name="corrupt.bin", parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(b"abc"),
        content_md_5=sha1(b"abd"),
    ))

    newer = content(1234, 2)
    version = box.uploads.upload_file_version(
        small.id,
        UploadFileVersionAttributes(name="renamed.bin"),
        io.BytesIO(newer),
        if_match=small.etag,
    ).entries[0]
    assert version.id == small.id
    assert (version.name, version.sha_1, version.size) == ("renamed.bin", sha1(newer), len(newer))
    assert version.etag != small.etag and version.file_version.id != small.file_version.id
    expect_api_error(412, "precondition_failed", lambda: box.uploads.upload_file_version(
        small.id,
        UploadFileVersionAttributes(name="renamed.bin"),
        io.BytesIO(b"stale"),
        if_match=small.etag,
    ))

    check = box.uploads.preflight_file_upload_check(
        name="later.bin", size=5000, parent=PreflightFileUploadCheckParent(id="0")
    )
    assert check.upload_url.endswith("/api/2.0/files/content"), check.upload_url
    assert check.upload_token
    expect_api_error(409, "item_name_in_use", lambda: box.uploads.preflight_file_upload_check(
        name="renamed.bin", size=1, parent=PreflightFileUploadCheckParent(id="0")
    ))
    expect_api_error(404, "not_found", lambda: box.uploads.preflight_file_upload_check(
        name="x.bin", size=1, parent=PreflightFileUploadCheckParent(id="987654321")
    ))
    later_data = content(5000, 3)
    later = box.uploads.upload_with_preflight_check(
        UploadWithPreflightCheckAttributes(
            name="later.bin",
            size=len(later_data),
            parent=UploadWithPreflightCheckAttributesParentField(id="0"),
        ),
        io.BytesIO(later_data),
    ).entries[0]
    assert later.sha_1 == sha1(later_data)
    return {
        "small": {"id": small.id, "sha1": sha1(newer), "name": "renamed.bin"},
        "empty": {"id": empty.id, "sha1": sha1(b"")},
        "later": {"id": later.id, "sha1": sha1(later_data)},
    }


def chunked(box):
    """chunked_uploads.upload_big_file, the SDK's own helper, with the emulator's small
    part size."""
    folder = box.folders.create_folder("big", CreateFolderParent(id="0"))
    data = content(300_007, 4)
    file = box.chunked_uploads.upload_big_file(
        io.BytesIO(data), "big.bin", len(data), folder.id
    )
    assert (file.name, file.size, file.sha_1) == ("big.bin", len(data), sha1(data))
    assert file.parent.id == folder.id
    return {"folder": folder.id, "id": file.id, "sha1": sha1(data)}


def folders(box):
    """folders.create_folder (and its 409), get_folder_by_id, get_folder_items paged by
    offset and by marker."""
    parent = box.folders.create_folder("Projects", CreateFolderParent(id="0"))
    assert (parent.name, parent.parent.id, parent.type) == ("Projects", "0", "folder")
    clash = expect_api_error(409, "item_name_in_use", lambda: box.folders.create_folder(
        "projects", CreateFolderParent(id="0")
    ))
    assert clash.context_info["conflicts"][0]["id"] == parent.id, clash.context_info
    expect_api_error(404, "not_found", lambda: box.folders.create_folder(
        "orphan", CreateFolderParent(id="987654321")
    ))

    names = []
    for i in range(3):
        sub = box.folders.create_folder(f"sub {i}", CreateFolderParent(id=parent.id))
        assert sub.parent.id == parent.id
        names.append(sub.name)
    for i in range(4):
        data = content(100 + i, 10 + i)
        box.uploads.upload_file(
            UploadFileAttributes(
                name=f"file {i}.txt", parent=UploadFileAttributesParentField(id=parent.id)
            ),
            io.BytesIO(data),
        )
        names.append(f"file {i}.txt")

    seen, offset = [], 0
    while True:
        page = box.folders.get_folder_items(
            parent.id, offset=offset, limit=3, fields=["name", "sha1", "size", "etag"]
        )
        assert page.total_count == 7 and page.limit == 3, (page.total_count, page.limit)
        seen += page.entries
        offset += len(page.entries)
        if not page.entries or offset >= page.total_count:
            break
    # Folders first, then files, each by name.
    assert [e.name for e in seen] == names, [e.name for e in seen]
    assert [e.type for e in seen] == ["folder"] * 3 + ["file"] * 4
    for entry in seen[3:]:
        index = int(entry.name.split()[1].split(".")[0])
        data = content(100 + index, 10 + index)
        assert (entry.sha_1, entry.size) == (sha1(data), len(data)), entry.name

    marked, marker = [], None
    while True:
        page = box.folders.get_folder_items(parent.id, usemarker=True, marker=marker, limit=2)
        marked += [e.name for e in page.entries]
        marker = page.next_marker
        if not marker:
            break
    assert marked == names, marked

    read = box.folders.get_folder_by_id(parent.id)
    assert (read.id, read.name, read.item_collection.total_count) == (parent.id, "Projects", 7)
    root = box.folders.get_folder_by_id("0")
    assert root.name == "All Files" and root.parent is None
    return {"folder": parent.id, "names": names}


def upload_one(box, name, seed):
    """One direct upload to the root; returns its id and SHA-1."""
    data = content(1_000 + seed, seed)
    file = box.uploads.upload_file(
        UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(data),
    ).entries[0]
    assert (file.name, file.sha_1) == (name, sha1(data)), file
    return {"id": file.id, "sha1": file.sha_1}


def ccg_auth(config_path):
    """BoxCCGAuth for the enterprise of a Box app config file."""
    with open(config_path) as f:
        app = json.load(f)
    settings = app["boxAppSettings"]
    return BoxCCGAuth(
        CCGConfig(
            client_id=settings["clientID"],
            client_secret=settings["clientSecret"],
            enterprise_id=app["enterpriseID"],
        )
    )


def ccg(base_url, config_path):
    """BoxCCGAuth for the enterprise, then for a user; a revoked token is replaced by a new
    grant."""
    auth = ccg_auth(config_path)
    box = client(base_url, auth)
    enterprise = upload_one(box, "ccg-enterprise.bin", 1)
    token = auth.retrieve_token(network_session=box.network_session)
    assert token.token_type == "bearer" and token.expires_in > 0, token
    assert token.refresh_token is None, "CCG gives no refresh token"
    # The SDK posts the revocation to base_url/oauth2/revoke, then asks for a new token.
    auth.revoke_token(network_session=box.network_session)
    again = upload_one(box, "ccg-after-revoke.bin", 2)
    user = upload_one(client(base_url, auth.with_user_subject("33333")), "ccg-user.bin", 3)
    return {"enterprise": enterprise, "again": again, "user": user}


def ccg_expiry(base_url, config_path):
    """A token that expires between two calls: the SDK gets 401 with Box's challenge, asks
    for a new token and repeats the call. The emulator's token TTL is EXPIRY_TTL_SECS."""
    auth = ccg_auth(config_path)
    box = client(base_url, auth)
    before = upload_one(box, "before-expiry.bin", 6)
    time.sleep(EXPIRY_TTL_SECS + 0.5)  # token expiry is no event the script can await
    root = box.folders.get_folder_by_id("0")
    assert root.id == "0", root
    after = upload_one(box, "after-expiry.bin", 7)
    return {"before": before, "after": after}


def jwt(base_url, config_path):
    """BoxJWTAuth from a Box app config (encrypted PKCS#8 key, publicKeyID), for the
    enterprise, then for a user."""
    with open(config_path) as f:
        auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(f.read()))
    enterprise = upload_one(client(base_url, auth), "jwt-enterprise.bin", 4)
    user = upload_one(client(base_url, auth.with_user_subject("33333")), "jwt-user.bin", 5)
    return {"enterprise": enterprise, "user": user}


def main():
    scenario, base_url, credential = sys.argv[1:4]
    with_app = {"ccg": ccg, "ccg_expiry": ccg_expiry, "jwt": jwt}
    if scenario in with_app:
        result = with_app[scenario](base_url, credential)
    else:
        box = client(base_url, BoxDeveloperTokenAuth(token=credential))
        result = {"upload": upload, "chunked": chunked, "folders": folders}[scenario](box)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
