"""Work items (対策要否・予定・完了 / 対策要否申請・承認・完了), urgency per finding, registration periods and
exceptions."""
