-- Who a user is at the organisation's provider ("<issuer> <subject>"), bound on their first
-- sign-in: a later token naming the same e-mail for another subject is refused, so an address
-- someone can set for themselves at the provider cannot take over another person's account.
ALTER TABLE users ADD COLUMN subject TEXT;

-- E-mail addresses are found whatever their case.
CREATE INDEX users_by_lower_email ON users (lower(email));
