"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 11:08:24.669313
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables.types


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('job_run',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('started_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('show_name_publicly', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_telegram_user_id'), ['telegram_user_id'], unique=True)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('parts_sent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'kind', 'period', name='uq_outbox_chat_kind_period')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_due', ['state', 'not_before'], unique=False)

    op.create_table('threshold_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('housing_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tags', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('residents', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('parent_id', 'kind', 'name', name='uq_unit_sibling_name')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_parent_id'), ['parent_id'], unique=False)

    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('activity_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('meeting_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('party_members', sa.Integer(), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('person_hours', sa.Float(), nullable=True),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('unparsed', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('source_message_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['compound_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_chat_id', 'source_message_id', name='uq_activity_source')
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_compound_date', ['compound_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_member_id'), ['member_id'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('cause_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('raised_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('cleared_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cause_key', name='uq_alert_cause')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_unit_id'), ['unit_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('bind_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bind_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bind_code_code'), ['code'], unique=True)

    op.create_table('chat_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('bound_by_member_id', sa.Integer(), nullable=True),
    sa.Column('bound_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('inactive_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['bound_by_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_binding_chat_id'), ['chat_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_chat_binding_unit_id'), ['unit_id'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('week', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('building_id', 'week', name='uq_checkin_week')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_building_id'), ['building_id'], unique=False)

    op.create_table('grid_compound',
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('grid_id', 'compound_id')
    )
    op.create_table('imported_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('imported_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('compound_id', 'indicator_id', 'period', name='uq_imported_indicator')
    )
    with op.batch_alter_table('imported_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_indicator_compound_id'), ['compound_id'], unique=False)

    op.create_table('invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('created_by_member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_code'), ['code'], unique=True)

    op.create_table('issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('party', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reporter_member_id', sa.Integer(), nullable=True),
    sa.Column('reporter_user_id', sa.BigInteger(), nullable=True),
    sa.Column('reporter_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('source_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('source_message_id', sa.BigInteger(), nullable=False),
    sa.Column('assignee_member_id', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('reported_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('dispatched_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('respond_due_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('resolve_due_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('reminded_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('overdue_alerted_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('escalated_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.Column('close_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('rejected_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('reporters_count', sa.Integer(), nullable=False),
    sa.Column('card_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('card_message_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['building_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['compound_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['reporter_member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_chat_id', 'source_message_id', name='uq_issue_source')
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index('ix_issue_compound_category_reported', ['compound_id', 'category_id', 'reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_reporter_member_id'), ['reporter_member_id'], unique=False)
        batch_op.create_index('ix_issue_state_due', ['state', 'resolve_due_at'], unique=False)

    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_member_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', storage.tables.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['granted_by_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grant_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grant_unit_id'), ['unit_id'], unique=False)

    op.create_table('score_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('housing_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('management', sa.Float(), nullable=False),
    sa.Column('vitality', sa.Float(), nullable=False),
    sa.Column('satisfaction', sa.Float(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('coverage', sa.Float(), nullable=False),
    sa.Column('rank_in_type', sa.Integer(), nullable=True),
    sa.Column('rank_low', sa.Integer(), nullable=True),
    sa.Column('rank_high', sa.Integer(), nullable=True),
    sa.Column('threshold_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('computed_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'compound_id', name='uq_snapshot_period')
    )
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_snapshot_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_snapshot_period'), ['period'], unique=False)

    op.create_table('activity_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id', 'member_id', name='uq_activity_person')
    )
    with op.batch_alter_table('activity_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_person_activity_id'), ['activity_id'], unique=False)

    op.create_table('invite_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invite_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('used_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invite_id'], ['invite.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invite_id', 'member_id', name='uq_invite_use_member')
    )
    with op.batch_alter_table('invite_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_use_invite_id'), ['invite_id'], unique=False)

    op.create_table('issue_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('source_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('source_message_id', sa.BigInteger(), nullable=False),
    sa.Column('added_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_chat_id', 'source_message_id', name='uq_attachment_source')
    )
    with op.batch_alter_table('issue_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_attachment_issue_id'), ['issue_id'], unique=False)

    op.create_table('issue_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('issue_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_event_issue_id'), ['issue_id'], unique=False)

    op.create_table('issue_reporter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('joined_at', storage.tables.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issue_id', 'user_id', name='uq_issue_reporter')
    )
    with op.batch_alter_table('issue_reporter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_reporter_issue_id'), ['issue_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('issue_reporter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_reporter_issue_id'))

    op.drop_table('issue_reporter')
    with op.batch_alter_table('issue_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_event_issue_id'))

    op.drop_table('issue_event')
    with op.batch_alter_table('issue_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_attachment_issue_id'))

    op.drop_table('issue_attachment')
    with op.batch_alter_table('invite_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_use_invite_id'))

    op.drop_table('invite_use')
    with op.batch_alter_table('activity_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_person_activity_id'))

    op.drop_table('activity_person')
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_snapshot_period'))
        batch_op.drop_index(batch_op.f('ix_score_snapshot_compound_id'))

    op.drop_table('score_snapshot')
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_unit_id'))
        batch_op.drop_index(batch_op.f('ix_role_grant_member_id'))

    op.drop_table('role_grant')
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index('ix_issue_state_due')
        batch_op.drop_index(batch_op.f('ix_issue_reporter_member_id'))
        batch_op.drop_index('ix_issue_compound_category_reported')

    op.drop_table('issue')
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_code'))

    op.drop_table('invite')
    with op.batch_alter_table('imported_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_indicator_compound_id'))

    op.drop_table('imported_indicator')
    op.drop_table('grid_compound')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_building_id'))

    op.drop_table('checkin')
    with op.batch_alter_table('chat_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_binding_unit_id'))
        batch_op.drop_index(batch_op.f('ix_chat_binding_chat_id'))

    op.drop_table('chat_binding')
    with op.batch_alter_table('bind_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bind_code_code'))

    op.drop_table('bind_code')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_unit_id'))

    op.drop_table('alert')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_member_id'))
        batch_op.drop_index('ix_activity_compound_date')

    op.drop_table('activity')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_parent_id'))
        batch_op.drop_index(batch_op.f('ix_unit_kind'))

    op.drop_table('unit')
    op.drop_table('threshold_set')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_due')

    op.drop_table('outbox_message')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_telegram_user_id'))

    op.drop_table('member')
    op.drop_table('job_run')
    
