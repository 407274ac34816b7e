-- Grid patrols (网格巡查) of the governance platform, loaded by
-- pingan_transforms.extract.governance by an updated-at (gxsj) watermark like the
-- petitions and disputes. Every source field kept as text (the counts are typed in
-- by grid workers and are not always numbers) plus load metadata; the grid
-- worker's name (wgyxm) is never read and the phone arrives keyed-hashed.

create table if not exists raw.governance__grid_patrols (
    xcbh            text,   -- 巡查编号 patrol number (natural key)
    xcrq            text,   -- 巡查日期 patrol date
    xzqhdm          text,   -- 行政区划代码 region code (village; sometimes town only)
    xclx            text,   -- 巡查类型代码 patrol type: 01 .. 05
    fxwts           text,   -- 发现问题数 issues found
    zgwts           text,   -- 整改问题数 issues rectified
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    wgydh_hash      text,   -- 网格员电话 grid worker phone, HMAC-SHA256
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists governance__grid_patrols_batch
    on raw.governance__grid_patrols (_batch_id);
