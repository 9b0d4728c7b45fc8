//! Log groups: create, delete, describe, retention.

use lookout_api::shapes::{
    CreateLogGroupRequest, DescribeLogGroupsRequest, DescribeLogGroupsResponse, LogGroup,
    LogGroupRequest, PutRetentionPolicyRequest,
};
use lookout_api::{ApiError, ErrorCode, Violations};
use lookout_model::RetentionDays;
use lookout_storage::{GroupOptions, GroupRecord};

use crate::validate::{bounded, group_from_identifier, group_name, required, tags};
use crate::{Service, now_ms, tokens};

const CLASSES: [&str; 3] = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

impl Service {
    pub(crate) async fn create_log_group(
        &self,
        req: CreateLogGroupRequest,
    ) -> Result<(), ApiError> {
        let name = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        let class = req
            .log_group_class
            .unwrap_or_else(|| "STANDARD".to_string());
        if !CLASSES.contains(&class.as_str()) {
            let mut v = Violations::new();
            v.add(
                "logGroupClass",
                Some(&class),
                "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
            );
            v.finish()?;
        }
        let tag_map = req.tags.unwrap_or_default();
        tags(&tag_map)?;
        if tag_map.len() > self.cfg.limits.max_tags {
            return Err(too_many_tags(name.as_str()));
        }
        if let Some(k) = &req.kms_key_id
            && k.chars().count() > 256
        {
            let mut v = Violations::new();
            v.add(
                "kmsKeyId",
                Some(k),
                "Member must have length less than or equal to 256",
            );
            v.finish()?;
        }
        let opts = GroupOptions {
            kms_key_id: req.kms_key_id,
            tags: tag_map,
            class,
            deletion_protection: req.deletion_protection_enabled.unwrap_or(false),
        };
        let now = now_ms();
        self.blocking(move |s| s.create_group(&name, opts, now).map(|_| ()))
            .await
    }

    pub(crate) async fn delete_log_group(&self, req: LogGroupRequest) -> Result<(), ApiError> {
        let name = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        let group = {
            let n = name.as_str().to_string();
            self.blocking(move |s| s.group(&n)).await?
        };
        if group.deletion_protection {
            return Err(ApiError::new(
                ErrorCode::Validation,
                "Log group deletion protection is enabled. Disable deletion protection before deleting the log group.",
            ));
        }
        self.blocking(move |s| s.delete_group(name.as_str())).await
    }

    pub(crate) async fn describe_log_groups(
        &self,
        req: DescribeLogGroupsRequest,
    ) -> Result<DescribeLogGroupsResponse, ApiError> {
        let limit = bounded(req.limit, "limit", 1, 50, 50)? as usize;
        if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
            return Err(ApiError::invalid(
                "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.",
            ));
        }
        if let Some(p) = &req.log_group_name_prefix {
            group_name(p, "logGroupNamePrefix")?;
        }
        if let Some(p) = &req.log_group_name_pattern
            && !p.is_empty()
        {
            group_name(p, "logGroupNamePattern")?;
        }
        let after = match &req.next_token {
            Some(t) => Some(tokens::decode_name("g", t)?),
            None => None,
        };
        let names_only = req.log_group_name_pattern.is_some();
        let mut groups: Vec<GroupRecord> = Vec::new();
        let mut more = false;
        if let Some(ids) = req.log_group_identifiers {
            if ids.is_empty() || ids.len() > 50 {
                let mut v = Violations::new();
                v.add(
                    "logGroupIdentifiers",
                    None,
                    "Member must have length between 1 and 50",
                );
                v.finish()?;
            }
            let mut names = Vec::with_capacity(ids.len());
            for id in &ids {
                names.push(group_from_identifier(id)?.as_str().to_string());
            }
            names.sort();
            names.dedup();
            let after = after.clone();
            let found = self
                .blocking(move |s| {
                    let mut out = Vec::new();
                    for n in names {
                        if after.as_deref().is_some_and(|a| n.as_str() <= a) {
                            continue;
                        }
                        match s.group(&n) {
                            Ok(g) => out.push(g),
                            Err(lookout_storage::StorageError::GroupNotFound) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(out)
                })
                .await?;
            for g in found {
                if groups.len() == limit {
                    more = true;
                    break;
                }
                groups.push(g);
            }
        } else {
            let prefix = req.log_group_name_prefix.clone();
            let pattern = req.log_group_name_pattern.clone().unwrap_or_default();
            let class = req.log_group_class.clone();
            let (found, has_more) = self
                .blocking(move |s| {
                    // Page through the catalogue until `limit + 1` groups pass the filters.
                    let mut out = Vec::new();
                    let mut cursor = after;
                    loop {
                        let page = s.list_groups(prefix.as_deref(), cursor.as_deref(), 500)?;
                        let done = page.len() < 500;
                        cursor = page.last().map(|g| g.name.clone());
                        for g in page {
                            let keep = g.name.contains(pattern.as_str())
                                && class.as_deref().is_none_or(|c| c == g.class);
                            if keep {
                                if out.len() == limit {
                                    return Ok((out, true));
                                }
                                out.push(g);
                            }
                        }
                        if done {
                            return Ok((out, false));
                        }
                    }
                })
                .await?;
            groups = found;
            more = has_more;
        }
        let next_token = if more {
            groups.last().map(|g| tokens::encode_name("g", &g.name))
        } else {
            None
        };
        let log_groups = groups
            .into_iter()
            .map(|g| self.log_group(g, names_only))
            .collect();
        Ok(DescribeLogGroupsResponse {
            log_groups,
            next_token,
        })
    }

    fn log_group(&self, g: GroupRecord, names_only: bool) -> LogGroup {
        let arn = self.group_arn(&g.name);
        if names_only {
            return LogGroup {
                arn: Some(format!("{arn}:*")),
                creation_time: Some(g.creation_time),
                log_group_name: g.name,
                ..LogGroup::default()
            };
        }
        LogGroup {
            creation_time: Some(g.creation_time),
            retention_in_days: g.retention_days.map(i64::from),
            metric_filter_count: Some(0),
            arn: Some(format!("{arn}:*")),
            stored_bytes: Some(g.stored_bytes.min(i64::MAX as u64) as i64),
            kms_key_id: g.kms_key_id,
            log_group_class: Some(g.class),
            log_group_arn: Some(arn),
            deletion_protection_enabled: Some(g.deletion_protection),
            log_group_name: g.name,
        }
    }

    pub(crate) async fn put_retention_policy(
        &self,
        req: PutRetentionPolicyRequest,
    ) -> Result<(), ApiError> {
        let name = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        let days_value = required(req.retention_in_days, "retentionInDays")?;
        let days = RetentionDays::new(days_value).map_err(|_| {
            let mut v = Violations::new();
            v.add(
                "retentionInDays",
                Some(&days_value.to_string()),
                "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
            );
            v.finish().err().unwrap_or_else(|| ApiError::invalid("invalid retentionInDays"))
        })?;
        self.blocking(move |s| s.set_retention(name.as_str(), Some(days)))
            .await
    }

    pub(crate) async fn delete_retention_policy(
        &self,
        req: LogGroupRequest,
    ) -> Result<(), ApiError> {
        let name = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        self.blocking(move |s| s.set_retention(name.as_str(), None))
            .await
    }
}

pub(crate) fn too_many_tags(resource: &str) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::TooManyTags,
        "A resource can have no more than 50 tags.",
    );
    let mut extra = serde_json::Map::new();
    extra.insert("resourceName".into(), resource.into());
    e.extra = Some(extra);
    e
}
