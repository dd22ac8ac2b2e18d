-- Who resolved a claim: a team member's email (the console) or 'operator-token'.
ALTER TABLE claims ADD COLUMN resolved_by text;
