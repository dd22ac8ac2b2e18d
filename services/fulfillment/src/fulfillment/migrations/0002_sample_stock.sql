-- Stock of the sample catalogue (the same skus as checkout's 0002_sample_catalogue.sql), with
-- the Japanese name and its romaji for the warehouse's pick lists.
INSERT INTO products (sku, name_fr, name_ja, name_romaji, on_hand) VALUES
    ('MATCHA-KYOTO-100',   'Thé matcha de Kyoto, 100 g',                    '京都産 抹茶 100g',            'Kyōto-san matcha 100 g',        120),
    ('SENCHA-SHIZUOKA-80', 'Thé vert sencha de Shizuoka, 80 g',             '静岡 煎茶 80g',               'Shizuoka sencha 80 g',           80),
    ('CHASEN-BAMBOU-80',   'Fouet à matcha en bambou (chasen), 80 brins',   '茶筅 80本立',                 'Chasen hachijuppon-date',        45),
    ('BOL-MATCHA-RAKU',    'Bol à matcha en céramique raku',                '楽焼 抹茶碗',                 'Raku-yaki matcha-wan',           12),
    ('BAGUETTES-LAQUE-5',  'Baguettes en bois laqué, coffret de 5 paires',  '漆塗り箸 5膳セット',          'Urushi-nuri hashi 5-zen setto',  60),
    ('FUROSHIKI-SAKURA',   'Furoshiki en coton motif sakura, 70 cm',        '綿 風呂敷 桜柄 70cm',         'Men furoshiki sakura-gara',      40),
    ('NOREN-VAGUE-85',     'Rideau noren « La Grande Vague », 85 × 150 cm', '暖簾 神奈川沖浪裏 85×150',    'Noren Kanagawa-oki nami-ura',    15),
    ('COUTEAU-SANTOKU-18', 'Couteau santoku en acier damas, 18 cm',         'ダマスカス 三徳包丁 18cm',    'Damasukasu santoku bōchō',        6),
    ('THEIERE-TETSUBIN',   'Théière en fonte tetsubin, 0,8 L',              '南部鉄瓶 0.8L',               'Nanbu tetsubin 0.8 L',           10),
    ('MANEKI-NEKO-15',     'Maneki-neko en céramique, 15 cm',               '招き猫 陶器 15cm',            'Maneki-neko tōki',               30),
    ('DARUMA-ROUGE-10',    'Poupée daruma rouge, 10 cm',                    '赤だるま 10cm',               'Aka daruma',                     50),
    ('KOKESHI-CERISIER',   'Poupée kokeshi en bois de cerisier',            '桜材 こけし',                 'Sakura-zai kokeshi',             20),
    ('YUKATA-INDIGO-M',    'Yukata en coton indigo, taille M',              '藍染 綿浴衣 Mサイズ',         'Aizome men yukata M-saizu',      18),
    ('EVENTAIL-WASHI',     'Éventail en papier washi peint à la main',      '手描き 和紙 扇子',            'Tegaki washi sensu',             35),
    ('BENTO-HINOKI-2',     'Boîte à bento en bois de hinoki, 2 étages',     '檜 弁当箱 二段',              'Hinoki bentō-bako nidan',        14),
    ('ENCENS-KYARA-40',    'Bâtonnets d''encens kyara, boîte de 40',        '伽羅 線香 40本入',            'Kyara senkō 40-pon-iri',         40),
    ('TAMAGOTCHI-1997',    'Tamagotchi édition 1997 (réédition)',           'たまごっち 1997 復刻版',      'Tamagotchi 1997 fukkoku-ban',     0)
ON CONFLICT (sku) DO NOTHING;

INSERT INTO stock_movements (sku, on_hand_delta, reason, note)
SELECT sku, on_hand, 'seed', 'sample catalogue stock' FROM products WHERE on_hand > 0;
