-- Police anti-fraud warnings (反诈预警) and their dissuasion results, from the front
-- database table fzyj: every source field as text plus load metadata. The victim's
-- name (shrxm) is never read; the victim's phone arrives keyed-hashed (HMAC-SHA256).

create table if not exists raw.police__fraud_warnings (
    yjbh            text,   -- 预警编号 warning number (natural key)
    yjsj            text,   -- 预警时间 warned at
    xzqhdm          text,   -- 行政区划代码 region code
    yjlx            text,   -- 预警类型 warning type
    shrdh_hash      text,   -- 受害人电话 victim phone, HMAC-SHA256
    qzjg            text,   -- 劝阻结果 dissuasion result
    zfje            text,   -- 止付金额 amount stopped (yuan)
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists police__fraud_warnings_batch
    on raw.police__fraud_warnings (_batch_id);
