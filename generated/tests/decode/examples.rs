//! Realistic, valid bodies of every type the client decodes, with every field
//! filled in (Box's own examples where it has them): the starting point of each of
//! `decode.rs`'s hostile inputs.

use serde_json::{Value, json};

pub fn user() -> Value {
    json!({"id": "11446498", "type": "user", "name": "Aaron Levie", "login": "ceo@example.com"})
}

pub fn folder() -> Value {
    json!({"id": "12345", "etag": "1", "type": "folder", "sequence_id": "3", "name": "Contracts"})
}

pub fn upload_part() -> Value {
    json!({"part_id": "6F2D3486", "offset": 16777216, "size": 3222784,
           "sha1": "134b65991ed521fcfe4724b7d814ab8ded5185dc"})
}

pub fn upload_session() -> Value {
    let base =
        "https://upload.box.com/api/2.0/files/upload_sessions/F971964745A5CD0C001BBE4E58196BFD";
    json!({
        "id": "F971964745A5CD0C001BBE4E58196BFD",
        "type": "upload_session",
        "session_expires_at": "2012-12-12T10:53:43-08:00",
        "part_size": 8388608,
        "total_parts": 1000,
        "num_parts_processed": 455,
        "session_endpoints": {
            "upload_part": base,
            "commit": format!("{base}/commit"),
            "abort": base,
            "list_parts": format!("{base}/parts"),
            "status": base,
            "log_event": format!("{base}/log")
        }
    })
}

pub fn upload_parts() -> Value {
    json!({
        "total_count": 5000,
        "limit": 1000,
        "offset": 2000,
        "order": [{"by": "type", "direction": "ASC"}],
        "entries": [upload_part()]
    })
}

pub fn shared_link() -> Value {
    json!({
        "url": "https://www.box.com/s/vspke7y05sb214wjokpk",
        "download_url": "https://www.box.com/shared/static/rh935iit6ewrmw0unyul.jpeg",
        "vanity_url": "https://acme.app.box.com/v/my_url/",
        "vanity_name": "my_url",
        "access": "open",
        "effective_access": "company",
        "effective_permission": "can_download",
        "unshared_at": "2018-04-13T13:53:23-07:00",
        "is_password_enabled": true,
        "permissions": {"can_download": true, "can_preview": true, "can_edit": false},
        "download_count": 3,
        "preview_count": 3
    })
}

pub fn metadata() -> Value {
    json!({
        "enterprise_27335": {
            "marketingCollateral": {
                "$canEdit": true,
                "$id": "01234500-12f1-1234-aa12-b1d234cb567e",
                "$parent": "folder_59449484661",
                "$scope": "enterprise_27335",
                "$template": "marketingCollateral",
                "$type": "properties-6bcba49f-ca6d-4d2a-a758-57fe6edf44d0",
                "$typeVersion": 2,
                "$version": 1,
                "reviewer": {"name": "Ann", "round": 2}
            }
        }
    })
}

pub fn file_full() -> Value {
    let version = json!({"id": "12345", "type": "file_version", "sha1": "134b65991ed521fcfe4724b7d814ab8ded5185dc"});
    let file_mini = json!({"id": "12345", "etag": "1", "type": "file", "sequence_id": "3",
                           "name": "Contract.pdf", "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37",
                           "file_version": version});
    let file = json!({
        "id": "12345",
        "etag": "1",
        "type": "file",
        "sequence_id": "3",
        "name": "Contract.pdf",
        "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37",
        "file_version": version,
        "description": "Contract for Q1 renewal",
        "size": 629644,
        "path_collection": {"total_count": 1, "entries": [folder()]},
        "created_at": "2012-12-12T10:53:43-08:00",
        "modified_at": "2012-12-12T10:53:43-08:00",
        "trashed_at": "2012-12-12T10:53:43-08:00",
        "purged_at": "2012-12-12T10:53:43-08:00",
        "content_created_at": "2012-12-12T10:53:43-08:00",
        "content_modified_at": "2012-12-12T10:53:43-08:00",
        "created_by": user(),
        "modified_by": user(),
        "owned_by": user(),
        "shared_link": shared_link(),
        "parent": folder(),
        "item_status": "active",
        "version_number": "1",
        "comment_count": 10,
        "permissions": {
            "can_delete": true, "can_download": true, "can_invite_collaborator": true,
            "can_rename": true, "can_set_share_access": true, "can_share": true,
            "can_annotate": true, "can_comment": true, "can_preview": true, "can_upload": true,
            "can_view_annotations_all": true, "can_view_annotations_self": true,
            "can_apply_watermark": true
        },
        "tags": ["approved"],
        "lock": {
            "id": "11446498",
            "type": "lock",
            "created_by": user(),
            "created_at": "2012-12-12T10:53:43-08:00",
            "expired_at": "2012-12-12T10:53:43-08:00",
            "is_download_prevented": true,
            "app_type": "office_wopiplus"
        },
        "extension": "pdf",
        "is_package": true,
        "expiring_embed_link": {
            "access_token": "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
            "expires_in": 3600,
            "token_type": "bearer",
            "restricted_to": [
                {"scope": "item_download", "object": folder()},
                {"scope": "item_preview", "object": file_mini},
                {"scope": "base_upload", "object": {"type": "web_link", "id": "1"}}
            ],
            "url": "https://cloud.app.box.com/preview/expiring_embed/gvoct6FE!Qz2rDeyxCiHsYpvlnR7JJ0SCfFM2M4YiX9cIwrSo4LOYQgxyP3rzoYuMmXg96mTAidqjPuRH",
        },
        "watermark_info": {"is_watermarked": true, "is_watermark_inherited": false,
                           "is_watermarked_by_access_policy": false},
        "is_accessible_via_shared_link": true,
        "allowed_invitee_roles": ["editor", "co-owner"],
        "is_externally_owned": true,
        "has_collaborations": true,
        "metadata": metadata(),
        "expires_at": "2012-12-12T10:53:43-08:00",
        "representations": {
            "entries": [{
                "content": {"url_template": "https://dl.boxcloud.com/api/2.0/internal_files/123/versions/345/representations/png_paged_2048x2048/content/{+asset_path}?watermark_content=4567"},
                "info": {"url": "https://api.box.com/2.0/internal_files/123/versions/345/representations/png_paged_2048x2048"},
                "properties": {"dimensions": "2048x2048", "paged": "true", "thumb": "true"},
                "representation": "png",
                "status": {"state": "success"}
            }]
        },
        "classification": {"name": "Top Secret", "definition": "Content that should not be shared outside the company.", "color": "#FF0000"},
        "uploader_display_name": "Ellis Wiggins",
        "disposition_at": "2012-12-12T10:53:43-08:00",
        "shared_link_permission_options": ["can_preview", "can_edit"],
        "is_associated_with_app_item": true
    });
    file
}

pub fn files() -> Value {
    json!({"total_count": 1, "entries": [file_full()]})
}

pub fn web_link() -> Value {
    json!({
        "id": "11446498",
        "type": "web_link",
        "etag": "1",
        "url": "https://www.example.com/example/1234",
        "sequence_id": "3",
        "name": "My Bookmark",
        "parent": folder(),
        "description": "Example page",
        "path_collection": {"total_count": 1, "entries": [folder()]},
        "created_at": "2012-12-12T10:53:43-08:00",
        "modified_at": "2012-12-12T10:53:43-08:00",
        "trashed_at": "2012-12-12T10:53:43-08:00",
        "purged_at": "2012-12-12T10:53:43-08:00",
        "created_by": user(),
        "modified_by": user(),
        "owned_by": user(),
        "shared_link": shared_link(),
        "item_status": "active"
    })
}

/// A page of a folder listing with every kind of entry and the fields of both kinds
/// of paging.
pub fn items() -> Value {
    json!({
        "limit": 1000,
        "next_marker": "JV9IRGZmieiBasejOG9yDCRNgd2ymoZIbjsxbJMjIs3kioVii",
        "prev_marker": "JV9IRGZmieiBasejOG9yDCRNgd2ymoZIbjsxbJMjIs3kioVih",
        "total_count": 5000,
        "offset": 2000,
        "order": [{"by": "type", "direction": "ASC"}],
        "entries": [file_full(), folder(), web_link()]
    })
}

pub fn folder_full() -> Value {
    json!({
        "id": "12345",
        "etag": "1",
        "type": "folder",
        "sequence_id": "3",
        "name": "Contracts",
        "created_at": "2012-12-12T10:53:43-08:00",
        "modified_at": "2012-12-12T10:53:43-08:00",
        "description": "Legal contracts for the new ACME deal",
        "size": 629644,
        "path_collection": {"total_count": 1, "entries": [folder()]},
        "created_by": user(),
        "modified_by": user(),
        "trashed_at": "2012-12-12T10:53:43-08:00",
        "purged_at": "2012-12-12T10:53:43-08:00",
        "content_created_at": "2012-12-12T10:53:43-08:00",
        "content_modified_at": "2012-12-12T10:53:43-08:00",
        "owned_by": user(),
        "shared_link": shared_link(),
        "folder_upload_email": {"access": "open", "email": "upload.Contracts.asd7asd@u.box.com"},
        "parent": folder(),
        "item_status": "active",
        "item_collection": {
            "limit": 100,
            "total_count": 2,
            "offset": 0,
            "order": [{"by": "name", "direction": "DESC"}],
            "entries": [folder(), web_link()]
        },
        "sync_state": "synced",
        "has_collaborations": true,
        "permissions": {
            "can_delete": true, "can_download": true, "can_invite_collaborator": true,
            "can_rename": true, "can_set_share_access": true, "can_share": true,
            "can_upload": true, "can_apply_watermark": true
        },
        "tags": ["approved"],
        "can_non_owners_invite": true,
        "is_externally_owned": true,
        "metadata": metadata(),
        "is_collaboration_restricted_to_enterprise": true,
        "allowed_shared_link_access_levels": ["open", "collaborators"],
        "allowed_invitee_roles": ["editor", "viewer uploader"],
        "watermark_info": {"is_watermarked": true, "is_watermark_inherited": false,
                           "is_watermarked_by_access_policy": false},
        "is_accessible_via_shared_link": true,
        "can_non_owners_view_collaborators": true,
        "classification": {"name": "Top Secret", "definition": "Content that should not be shared outside the company.", "color": "#FF0000"},
        "is_associated_with_app_item": true
    })
}

pub fn access_token() -> Value {
    json!({
        "access_token": "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
        "expires_in": 3600,
        "token_type": "bearer",
        "restricted_to": [{"scope": "item_upload", "object": folder()}],
        "refresh_token": "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"
    })
}

pub fn client_error() -> Value {
    json!({
        "type": "error",
        "status": 409,
        "code": "item_name_in_use",
        "message": "Item with the same name already exists",
        "context_info": {"conflicts": [{"type": "file", "id": "12345", "name": "video.mov"}]},
        "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
        "request_id": "abcdef123456"
    })
}
