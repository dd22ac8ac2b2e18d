-- A realistic sample catalogue of Japanese goods (prices TTC, VAT 20 %).
-- On-sale items ("produits soldés") and one inactive item (no longer sold) are included.
INSERT INTO catalogue (sku, name, price, vat_rate, on_sale, active) VALUES
    ('MATCHA-KYOTO-100',   'Thé matcha de Kyoto, 100 g',                      24.90, 20.00, false, true),
    ('SENCHA-SHIZUOKA-80', 'Thé vert sencha de Shizuoka, 80 g',               14.50, 20.00, false, true),
    ('CHASEN-BAMBOU-80',   'Fouet à matcha en bambou (chasen), 80 brins',     19.00, 20.00, false, true),
    ('BOL-MATCHA-RAKU',    'Bol à matcha en céramique raku',                  42.00, 20.00, false, true),
    ('BAGUETTES-LAQUE-5',  'Baguettes en bois laqué, coffret de 5 paires',    18.50, 20.00, false, true),
    ('FUROSHIKI-SAKURA',   'Furoshiki en coton motif sakura, 70 cm',          16.90, 20.00, true,  true),
    ('NOREN-VAGUE-85',     'Rideau noren « La Grande Vague », 85 × 150 cm',   34.90, 20.00, false, true),
    ('COUTEAU-SANTOKU-18', 'Couteau santoku en acier damas, 18 cm',          129.00, 20.00, false, true),
    ('THEIERE-TETSUBIN',   'Théière en fonte tetsubin, 0,8 L',                79.00, 20.00, false, true),
    ('MANEKI-NEKO-15',     'Maneki-neko en céramique, 15 cm',                 22.00, 20.00, true,  true),
    ('DARUMA-ROUGE-10',    'Poupée daruma rouge, 10 cm',                      12.90, 20.00, false, true),
    ('KOKESHI-CERISIER',   'Poupée kokeshi en bois de cerisier',              27.50, 20.00, true,  true),
    ('YUKATA-INDIGO-M',    'Yukata en coton indigo, taille M',                59.90, 20.00, false, true),
    ('EVENTAIL-WASHI',     'Éventail en papier washi peint à la main',        15.00, 20.00, false, true),
    ('BENTO-HINOKI-2',     'Boîte à bento en bois de hinoki, 2 étages',       38.00, 20.00, false, true),
    ('ENCENS-KYARA-40',    'Bâtonnets d''encens kyara, boîte de 40',          21.00, 20.00, false, true),
    ('TAMAGOTCHI-1997',    'Tamagotchi édition 1997 (réédition)',             29.90, 20.00, false, false);
