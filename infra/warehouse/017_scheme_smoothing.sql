-- Issue 15: an item may smooth its rate per 10,000 toward its peer group's (empirical
-- Bayes, schemes/README.md); 'none' for every item of a scheme that does not say so,
-- so that schemes loaded before this column existed score exactly as before.
alter table schemes.items add column if not exists smoothing text not null default 'none';
