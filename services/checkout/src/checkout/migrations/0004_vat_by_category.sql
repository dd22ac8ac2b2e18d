-- VAT by product category (CGI 278-0 bis A: food, tea included, at 5.5 %; 20 % otherwise).
-- The sample catalogue sold its teas at 20 %: they are food. Prices TTC stay as they were.
-- Every product now has a category, and its VAT rate must be its category's rate (the same
-- mapping as checkout.domain.VAT_RATE_BY_CATEGORY): a new product cannot be given a wrong rate.
ALTER TABLE catalogue ADD COLUMN category text;

UPDATE catalogue SET category = 'tea' WHERE sku IN ('MATCHA-KYOTO-100', 'SENCHA-SHIZUOKA-80');
UPDATE catalogue SET category = 'other' WHERE category IS NULL;
UPDATE catalogue SET vat_rate = 5.50 WHERE category IN ('tea', 'food');

ALTER TABLE catalogue
    ALTER COLUMN category SET NOT NULL,
    ADD CONSTRAINT catalogue_category_known CHECK (category IN ('tea', 'food', 'other')),
    ADD CONSTRAINT catalogue_vat_rate_of_category CHECK (
        vat_rate = CASE WHEN category IN ('tea', 'food') THEN 5.50 ELSE 20.00 END
    );
