{#- dbt's view materialization, with one change: a view whose columns stay as they were
    (or only gain columns at the end) is replaced in place, `create or replace view`,
    instead of renamed to a backup that is then dropped with `cascade`.

    Why: the default drops each replaced view's backup with `cascade`, which drops the
    views that depend on it until dbt rebuilds them, locking their rewrite rules. Two
    threads replacing views with a dependent in common (stg_publish__publications and
    another publish view, both read by the publication marts) waited for each other's
    rules: PostgreSQL's "deadlock detected" failed a month's `dbt build` now and then
    (a demo of 2026-12-07, CI the same night). Replaced in place, nothing is dropped and
    the dependents keep working. The new view is created first under the intermediate
    name as before, and PostgreSQL's own catalogue says whether the old columns are a
    prefix of the new ones (same position, name and type, what `create or replace view`
    accepts); when they are not (a column renamed, removed or retyped), the default
    rename-and-drop runs, as dbt does it. -#}
{%- materialization view, adapter='postgres' -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {% set grant_config = config.get('grants') %}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ get_create_view_as_sql(intermediate_relation, sql) }}
  {%- endcall %}

  {%- set in_place = existing_relation is not none and existing_relation.is_view
        and view_columns_extend(existing_relation, intermediate_relation) -%}
  {% if in_place %}
    {% call statement('replace_in_place') -%}
      create or replace view {{ target_relation.render() }} as (
        {{ sql }}
      );
      drop view {{ intermediate_relation.render() }};
    {%- endcall %}
  {% else %}
    {% if existing_relation is not none %}
      {% set existing_relation = load_cached_relation(existing_relation) %}
      {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
      {% endif %}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {% endif %}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% if not in_place %}
    {{ drop_relation_if_exists(backup_relation) }}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}


{#- True when every column of the relation `old` is the column at the same position
    of `new`, with the same name and type (PostgreSQL's rule for replacing a view). -#}
{% macro view_columns_extend(old, new) %}
  {% set query %}
    with

    old_columns as (
        select attnum, attname, format_type(atttypid, atttypmod) as column_type
        from pg_attribute
        where attrelid = '{{ old.render() }}'::regclass and attnum > 0 and not attisdropped
    ),

    new_columns as (
        select attnum, attname, format_type(atttypid, atttypmod) as column_type
        from pg_attribute
        where attrelid = '{{ new.render() }}'::regclass and attnum > 0 and not attisdropped
    )

    select count(*) as differing
    from old_columns
    left join new_columns
        on old_columns.attnum = new_columns.attnum
    where new_columns.attname is distinct from old_columns.attname
        or new_columns.column_type is distinct from old_columns.column_type
  {% endset %}
  {% set result = run_query(query) %}
  {{ return(result.columns[0].values()[0] == 0) }}
{% endmacro %}
