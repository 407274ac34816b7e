-- The fire department's raw tables, loaded by the file-drop connector (raw._files).

-- Fires (火灾情况统计表, xlsx). Columns are the sheet's headers, flattened and mapped
-- to pinyin initials by FIRE_FIRES in pingan_transforms/extract/files.py; all text.
create table if not exists raw.fire__fires (
    xh             text,   -- 序号 row number in the sheet
    hzbh           text,   -- 火灾编号 fire number (natural key)
    qhsj           text,   -- 起火时间 time the fire started
    qhdz           text,   -- 起火地址 address
    xzqhdm         text,   -- 行政区划代码 region code (village, sometimes only town)
    qhyy           text,   -- 起火原因 cause
    swrs           text,   -- 伤亡情况/死亡人数 deaths
    ssrs           text,   -- 伤亡情况/受伤人数 injuries
    zjccss         text,   -- 直接财产损失(元) direct property loss, yuan
    _batch_id      text not null,
    _extracted_at  timestamptz not null,
    _source_file   text not null,     -- path relative to the drop directory
    _source_row    integer not null   -- spreadsheet row number
);
create index if not exists fire__fires_batch on raw.fire__fires (_batch_id);

-- Supervision inspections (消防监督检查情况, GBK CSV), one row per town and month.
create table if not exists raw.fire__inspections (
    tjyf           text,   -- 统计月份 statistics month
    xzqhdm         text,   -- 行政区划代码 town code
    xzjdmc         text,   -- 乡镇街道名称 town name
    jcdws          text,   -- 检查单位数 units inspected
    fxyhs          text,   -- 发现隐患数 hazards found
    zgyhs          text,   -- 整改隐患数 hazards rectified
    zlgztzs        text,   -- 下发责令改正通知书数 rectification notices issued
    xzcfs          text,   -- 行政处罚数 administrative penalties
    fkje           text,   -- 罚款金额(元) fines, yuan
    _batch_id      text not null,
    _extracted_at  timestamptz not null,
    _source_file   text not null,
    _source_row    integer not null   -- CSV line number (the header is line 1)
);
create index if not exists fire__inspections_batch on raw.fire__inspections (_batch_id);
