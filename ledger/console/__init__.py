"""The admin console (`/manage/`): seats, purchases, bonus, adjustments, plans, teams, people."""
