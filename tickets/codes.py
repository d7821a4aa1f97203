"""Code lists of the ticket domain, each with the Chinese label operators and reports show."""

KINDS = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "意见建议",
    "praise": "表扬",
}

# Where a ticket came from (来源/渠道). Key sources raise the approval level and supervision.
CHANNELS = {
    "phone": "电话",
    "web": "市长信箱/网站",
    "sms": "短信",
    "wechat": "微信",
    "provincial_hotline": "省级热线交办",
    "city_hotline": "市级热线交办",
    "peoples_daily": "人民网留言",
    "leader_instructed": "领导批示",
}
KEY_SOURCES = frozenset({"provincial_hotline", "peoples_daily", "leader_instructed"})

STATUSES = {
    "accepted": "已受理",
    "not_accepted": "不予受理",
    "dispatched": "已转办",
    "processing": "办理中",
    "returned": "已退回",
    "replied": "已答复",
    "visited": "已回访",
    "closed": "已办结",
    "termination_requested": "终结审批中",
    "terminated": "已终结",
    "archived": "已归档",
}

DISPOSAL_MODES = {
    "direct_answer": "直接办理",
    "phone_transfer": "电话转办",
    "three_way": "三方通话",
    "network_dispatch": "网络转办",
    "escalated_approval": "书面批办",
    "joint_handling": "部门协办",
}

# 不予受理: the categories of the rules (蒙城 art. 8; 临沂; 兰溪).
NOT_ACCEPTED_REASONS = {
    "outside_jurisdiction": "不属于本级管辖范围",
    "legal_procedure": "应通过诉讼、仲裁、纪检监察、行政复议、政府信息公开等程序解决",
    "petition_channel": "已进入信访渠道",
    "party_and_state_organs": "涉及党委、人大、政协、军队、法院、检察院的意见",
    "secrets_and_privacy": "涉及国家秘密、商业秘密、个人隐私",
    "against_public_order": "违反社会公序良俗",
}

URGENCIES = {"normal": "一般", "urgent": "紧急", "very_urgent": "特急"}

SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

CLOSE_MODES = {
    "direct": "当即答复办结",
    "resolved": "办结",
    "handled": "视为办结",
}

APPROVAL_LEVELS = {
    "hotline_office_head": "热线办主任",
    "county_office_head": "县政府办主任",
    "deputy_county_head": "分管副县长",
}

SUPERVISION_FLAGS = {
    "key_source": "省级交办、人民网或领导批示件",
    "overdue": "超期未办结",
    "repeat_citizen": "同一诉求人多次反映",
    "crowd": "多人反映同一事项",
    "multi_unit": "涉及多个单位",
    "poor_quality": "办理质量差被退回重办",
    "unclear_responsibility": "责任不清、多次退回",
    "media_exposure": "媒体曝光",
}
