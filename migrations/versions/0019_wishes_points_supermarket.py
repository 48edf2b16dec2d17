"""micro-wishes, the volunteer points ledger and the love supermarket

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

# The points ledger is append-only: the database itself refuses to change or remove an entry.
PG_FUNCTION = """
CREATE FUNCTION points_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the points ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$
"""


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER points_entries_append_only BEFORE UPDATE OR DELETE ON "
                   "points_entries FOR EACH ROW EXECUTE FUNCTION points_append_only()")
        op.execute("CREATE TRIGGER points_entries_no_truncate BEFORE TRUNCATE ON points_entries "
                   "FOR EACH STATEMENT EXECUTE FUNCTION points_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER points_entries_no_{action.lower()} BEFORE {action} ON "
                       "points_entries BEGIN SELECT RAISE(ABORT, 'the points ledger is "
                       "append-only'); END")


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS points_entries_append_only ON points_entries")
        op.execute("DROP TRIGGER IF EXISTS points_entries_no_truncate ON points_entries")
        op.execute("DROP FUNCTION IF EXISTS points_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS points_entries_no_{action}")


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shop_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_shop_items_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_shop_items_stock_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_shop_items_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_items'))
    )
    with op.batch_alter_table('shop_items', schema=None) as batch_op:
        batch_op.create_index('ix_shop_items_community', ['community_id', 'name'], unique=False)

    op.create_table('points_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_points_accounts_balance_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_points_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_points_accounts'))
    )
    op.create_table('shop_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reversed_by_id', sa.Integer(), nullable=True),
    sa.Column('reverse_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_shop_redemptions_quantity_positive')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_shop_redemptions_community_id_communities')),
    sa.ForeignKeyConstraint(['item_id'], ['shop_items.id'], name=op.f('fk_shop_redemptions_item_id_shop_items')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['users.id'], name=op.f('fk_shop_redemptions_reversed_by_id_users')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_shop_redemptions_staff_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_shop_redemptions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_redemptions'))
    )
    with op.batch_alter_table('shop_redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_shop_redemptions_community', ['community_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_redemptions_user_id'), ['user_id'], unique=False)

    op.create_table('shop_stock_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_shop_stock_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['shop_items.id'], name=op.f('fk_shop_stock_changes_item_id_shop_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_stock_changes'))
    )
    with op.batch_alter_table('shop_stock_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_stock_changes_item_id'), ['item_id'], unique=False)

    op.create_table('points_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('earned', 'corrected', 'redeemed', 'reversed', name='points_entry_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('service_record_id', sa.Integer(), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('points <> 0', name=op.f('ck_points_entries_points_not_zero')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_points_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['redemption_id'], ['shop_redemptions.id'], name=op.f('fk_points_entries_redemption_id_shop_redemptions')),
    sa.ForeignKeyConstraint(['service_record_id'], ['service_records.id'], name=op.f('fk_points_entries_service_record_id_service_records')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_points_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries'))
    )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.create_index('ix_points_entries_person', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_points_entries_record', ['service_record_id'], unique=False)

    op.create_table('wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('daily', 'study', 'health', 'repair', 'company', 'other', name='wish_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('value_cap', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'published', 'rejected', 'claimed', 'fulfilled', 'confirmed', name='wish_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimer_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfil_note', sa.String(length=1000), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('service_record_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status IN ('claimed', 'fulfilled', 'confirmed')) = (claimer_id IS NOT NULL)", name=op.f('ck_wishes_claimer_when_claimed')),
    sa.CheckConstraint('value_cap > 0', name=op.f('ck_wishes_value_positive')),
    sa.ForeignKeyConstraint(['asker_id'], ['users.id'], name=op.f('fk_wishes_asker_id_users')),
    sa.ForeignKeyConstraint(['claimer_id'], ['users.id'], name=op.f('fk_wishes_claimer_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_wishes_community_id_communities')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_wishes_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['users.id'], name=op.f('fk_wishes_posted_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_wishes_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['service_record_id'], ['service_records.id'], name=op.f('fk_wishes_service_record_id_service_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wishes'))
    )
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wishes_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index('ix_wishes_claimer', ['claimer_id', 'status'], unique=False)
        batch_op.create_index('ix_wishes_wall', ['community_id', 'status', 'id'], unique=False)

    create_triggers()


def downgrade():
    drop_triggers()
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.drop_index('ix_wishes_wall')
        batch_op.drop_index('ix_wishes_claimer')
        batch_op.drop_index(batch_op.f('ix_wishes_asker_id'))

    op.drop_table('wishes')
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entries_record')
        batch_op.drop_index('ix_points_entries_person')

    op.drop_table('points_entries')
    with op.batch_alter_table('shop_stock_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_stock_changes_item_id'))

    op.drop_table('shop_stock_changes')
    with op.batch_alter_table('shop_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_redemptions_user_id'))
        batch_op.drop_index('ix_shop_redemptions_community')

    op.drop_table('shop_redemptions')
    op.drop_table('points_accounts')
    with op.batch_alter_table('shop_items', schema=None) as batch_op:
        batch_op.drop_index('ix_shop_items_community')

    op.drop_table('shop_items')
