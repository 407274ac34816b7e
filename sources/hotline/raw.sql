-- The 12345 hotline platform's work orders (12345热线诉求), loaded by the HTTP connector
-- (pingan_transforms.extract.api) by an updated-at (updateTime) watermark: every API
-- field kept as text, plus load metadata. The caller's name is never read; the phone
-- number arrives keyed-hashed (HMAC-SHA256).

create table if not exists raw.hotline__complaints (
    order_no            text,   -- orderNo 工单编号 (natural key)
    accept_time         text,   -- acceptTime 受理时间
    area_code           text,   -- areaCode 行政区划代码 (village or town)
    category            text,   -- category 诉求类别
    appeal_type         text,   -- appealType 诉求性质
    status              text,   -- status 办理状态
    finish_time         text,   -- finishTime 办结时间
    satisfaction        text,   -- satisfaction 回访满意度
    update_time         text,   -- updateTime 更新时间 (watermark)
    caller_phone_hash   text,   -- callerPhone 来电号码, HMAC-SHA256
    _batch_id           text not null,
    _extracted_at       timestamptz not null,
    _source_ref         text not null
);
create index if not exists hotline__complaints_batch on raw.hotline__complaints (_batch_id);
