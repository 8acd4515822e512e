"""The statements themselves: records, storage, sanitizing, dates, languages. No Flask, no other Bulletin package."""
