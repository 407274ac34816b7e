-- The BI tool's log-in user (infra/compose/bi-setup.sh, psql -v ON_ERROR_STOP=1): member
-- of pingan_bi_reader, which reads the published marts and nothing else (013_roles.sql).
-- Idempotent: creates the user or resets its password. Name and password come from the
-- environment (BI_READER_USER, BI_READER_PASSWORD) through psql's \getenv.
\getenv bi_user BI_READER_USER
\getenv bi_password BI_READER_PASSWORD

-- Never turn an existing privileged role into the BI user (e.g. BI_READER_USER=pingan,
-- the warehouse owner, would otherwise get the BI password).
select exists (
           select from pg_roles
            where rolname = :'bi_user'
              and (rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls)
       )
       or :'bi_user' in ('pingan_loader', 'pingan_transformer', 'pingan_bi_reader', current_user)
       as bi_user_privileged \gset
\if :bi_user_privileged
    do $$ begin
        raise exception 'BI_READER_USER names a privileged or pipeline role: choose another name';
    end $$;
\endif

select format('create role %I login', :'bi_user')
 where not exists (select from pg_roles where rolname = :'bi_user') \gexec
select format('alter role %I login inherit password %L', :'bi_user', :'bi_password') \gexec
select format('grant pingan_bi_reader to %I', :'bi_user')
 where not exists (
           select from pg_auth_members m
             join pg_roles g on g.oid = m.roleid
             join pg_roles u on u.oid = m.member
            where g.rolname = 'pingan_bi_reader' and u.rolname = :'bi_user'
       ) \gexec
select format('alter role %I set search_path = marts', :'bi_user') \gexec
