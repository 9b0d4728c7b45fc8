//! Tags of log groups, through the ARN-based operations and the legacy name-based ones.

use lookout_api::ApiError;
use lookout_api::shapes::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, ListTagsLogGroupResponse,
    LogGroupRequest, TagLogGroupRequest, TagResourceRequest, UntagLogGroupRequest,
    UntagResourceRequest,
};
use lookout_model::LogGroupName;

use crate::Service;
use crate::groups::too_many_tags;
use crate::validate::{group_from_identifier, group_name, required, tags};

/// Only log groups carry tags here; other ARNs name nothing this server has.
fn group_of_arn(arn: &str) -> Result<LogGroupName, ApiError> {
    if !arn.starts_with("arn:") || !arn.contains(":log-group:") {
        return Err(ApiError::new(
            lookout_api::ErrorCode::ResourceNotFound,
            format!("The specified resource does not exist: {arn}"),
        ));
    }
    group_from_identifier(arn)
}

impl Service {
    async fn change_tags(
        &self,
        group: LogGroupName,
        add: std::collections::BTreeMap<String, String>,
        remove: Vec<String>,
    ) -> Result<(), ApiError> {
        tags(&add)?;
        let max = self.cfg.limits.max_tags;
        let name = group.as_str().to_string();
        let current = {
            let n = name.clone();
            self.blocking(move |s| s.group(&n)).await?.tags
        };
        let mut next = current;
        next.extend(add);
        for k in &remove {
            next.remove(k);
        }
        if next.len() > max {
            return Err(too_many_tags(&self.group_arn(&name)));
        }
        self.blocking(move |s| s.set_tags(&name, &next)).await
    }

    async fn tags_of(
        &self,
        group: LogGroupName,
    ) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
        let n = group.as_str().to_string();
        Ok(self.blocking(move |s| s.group(&n)).await?.tags)
    }

    pub(crate) async fn tag_resource(&self, req: TagResourceRequest) -> Result<(), ApiError> {
        let group = group_of_arn(&required(req.resource_arn, "resourceArn")?)?;
        self.change_tags(group, required(req.tags, "tags")?, Vec::new())
            .await
    }

    pub(crate) async fn untag_resource(&self, req: UntagResourceRequest) -> Result<(), ApiError> {
        let group = group_of_arn(&required(req.resource_arn, "resourceArn")?)?;
        self.change_tags(
            group,
            Default::default(),
            required(req.tag_keys, "tagKeys")?,
        )
        .await
    }

    pub(crate) async fn list_tags_for_resource(
        &self,
        req: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        let group = group_of_arn(&required(req.resource_arn, "resourceArn")?)?;
        Ok(ListTagsForResourceResponse {
            tags: self.tags_of(group).await?,
        })
    }

    pub(crate) async fn tag_log_group(&self, req: TagLogGroupRequest) -> Result<(), ApiError> {
        let group = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        self.change_tags(group, required(req.tags, "tags")?, Vec::new())
            .await
    }

    pub(crate) async fn untag_log_group(&self, req: UntagLogGroupRequest) -> Result<(), ApiError> {
        let group = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        self.change_tags(group, Default::default(), required(req.tags, "tags")?)
            .await
    }

    pub(crate) async fn list_tags_log_group(
        &self,
        req: LogGroupRequest,
    ) -> Result<ListTagsLogGroupResponse, ApiError> {
        let group = group_name(
            &required(req.log_group_name, "logGroupName")?,
            "logGroupName",
        )?;
        Ok(ListTagsLogGroupResponse {
            tags: self.tags_of(group).await?,
        })
    }
}
