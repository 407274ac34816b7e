-- Indicator schemes, loaded from schemes/*.yaml by `pingan scheme load` (the
-- load_schemes task). One row set per (scheme_code, scheme_version); a reload of the
-- same version replaces its rows in one transaction. dbt reads these as the
-- `schemes` source and scores every version it finds.
create schema if not exists schemes;

create table if not exists schemes.versions (
    scheme_code          text    not null,
    scheme_version       integer not null,
    scheme_name          text    not null,
    valid_from           date    not null,
    ranked_level         text    not null,  -- village | township | county
    peer_level           text    not null,  -- ancestor level whose descendants rank together
    scope_code           text    not null,  -- only descendants of this region are ranked
    total_points         numeric not null,  -- sum of category points
    total_cap            numeric not null,  -- a total never exceeds this
    total_label          text    not null,  -- e.g. 平安指数, 平安形势指数
    star_method          text    not null,  -- none | score_bands | rank_share
    warning_red_below    numeric,           -- total < this: red
    warning_yellow_below numeric,           -- total < this (and not red): yellow
    escalate_after       integer,           -- this many consecutive reds: escalated
    source_file          text    not null,
    source_sha256        text    not null,
    loaded_at            timestamptz not null default now(),
    primary key (scheme_code, scheme_version)
);

create table if not exists schemes.nodes (
    scheme_code     text    not null,
    scheme_version  integer not null,
    node_code       text    not null,
    node_level      text    not null,  -- category | indicator | item
    parent_code     text,              -- null for categories
    node_name       text    not null,
    points          numeric not null,
    sort_order      integer not null,
    primary key (scheme_code, scheme_version, node_code)
);

create table if not exists schemes.items (
    scheme_code     text    not null,
    scheme_version  integer not null,
    item_code       text    not null,
    indicator_code  text    not null,
    category_code   text    not null,
    metric_code     text    not null,
    normalisation   text    not null,  -- none | per_10k_residents | per_10k_residents_floating
    rule            text    not null,  -- see schemes/README.md
    if_no_data      text    not null,  -- full | zero: the score when the value is undefined
    baseline        numeric,
    per_unit        numeric,
    cap             numeric,
    target          numeric,
    floor           numeric,
    compare_to      text,              -- previous_month | same_month_last_year | three_year_average
    min_count       numeric,
    better          text,              -- higher | lower
    threshold       numeric,
    veto_points     numeric,
    veto_grade      text,
    primary key (scheme_code, scheme_version, item_code)
);

create table if not exists schemes.item_bands (
    scheme_code     text    not null,
    scheme_version  integer not null,
    item_code       text    not null,
    lower_bound     numeric not null,  -- inclusive
    upper_bound     numeric,           -- exclusive; null = no upper bound
    points          numeric not null,
    primary key (scheme_code, scheme_version, item_code, lower_bound)
);

create table if not exists schemes.grades (
    scheme_code     text    not null,
    scheme_version  integer not null,
    grade           text    not null,
    min_score       numeric not null,  -- inclusive
    max_score       numeric not null,  -- exclusive, except the top band (inclusive)
    colour          text    not null,  -- #rrggbb
    sort_order      integer not null,  -- 1 = best
    primary key (scheme_code, scheme_version, grade)
);

create table if not exists schemes.stars (
    scheme_code     text    not null,
    scheme_version  integer not null,
    stars           integer not null,
    min_score       numeric,           -- score_bands: inclusive lower bound
    top_share       numeric,           -- rank_share: cumulative share of the peer group, (0, 1]
    primary key (scheme_code, scheme_version, stars)
);

create table if not exists schemes.tie_breaks (
    scheme_code     text    not null,
    scheme_version  integer not null,
    position        integer not null,  -- 1 = applied first
    category_code   text    not null,  -- the higher category score ranks first
    primary key (scheme_code, scheme_version, position)
);
