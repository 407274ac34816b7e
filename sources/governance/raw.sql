-- The governance platform's raw tables (信访 / 综治), loaded by
-- pingan_transforms.extract.governance by an updated-at (gxsj) watermark.
-- Every source field kept as text plus load metadata; the petitioner's name is
-- dropped and phone / ID number arrive keyed-hashed (HMAC-SHA256).

create table if not exists raw.governance__petitions (
    xfjbh           text,   -- 信访件编号 petition number (natural key)
    djsj            text,   -- 登记时间 received at
    xzqhdm          text,   -- 行政区划代码 region code
    xfrdh_hash      text,   -- 信访人电话 petitioner phone, HMAC-SHA256
    xfrsfzh_hash    text,   -- 信访人身份证号 petitioner ID number, HMAC-SHA256
    blzt            text,   -- 办理状态 status: 受理 / 办理中 / 办结
    bjrq            text,   -- 办结日期 completed on
    myd             text,   -- 满意度 satisfaction
    sfcf            text,   -- 是否重复信访 repeat petition: 是 / 否
    sfjt            text,   -- 是否集体访 group petition: 是 / 否
    sfyj            text,   -- 是否越级访 escalated petition: 是 / 否
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists governance__petitions_batch on raw.governance__petitions (_batch_id);

create table if not exists raw.governance__disputes (
    jfbh            text,   -- 纠纷编号 dispute number (natural key)
    fxrq            text,   -- 发现日期 found on
    xzqhdm          text,   -- 行政区划代码 region code
    jflx            text,   -- 纠纷类型 type
    tjjg            text,   -- 调解结果 mediation outcome
    jjrq            text,   -- 化解日期 resolved on
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists governance__disputes_batch on raw.governance__disputes (_batch_id);

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
