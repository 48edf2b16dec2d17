"""stations and rooms; an event may take a room, never one already taken at that time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('opening_hours', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('code', name=op.f('uq_stations_code'))
    )
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_rooms_capacity_positive')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_rooms_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('station_id', 'name', name=op.f('uq_rooms_station_id_name'))
    )
    op.create_table('station_communities',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_station_communities_community_id_communities')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_communities_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'community_id', name=op.f('pk_station_communities'))
    )
    with op.batch_alter_table('station_communities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_station_communities_community_id'), ['community_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_room_id'), ['room_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_events_room_id_rooms'), 'rooms', ['room_id'], ['id'])

    # Two events that are not cancelled never hold one room at overlapping times. PostgreSQL
    # keeps it with an exclusion constraint (btree_gist lets the integer room_id share a GiST
    # index with the time range; '[)' ranges let one event begin when the other ends). SQLite
    # has none: the events lifecycle checks inside its IMMEDIATE write transaction.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE events ADD CONSTRAINT ex_events_room_time EXCLUDE USING gist "
            "(room_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            "WHERE (room_id IS NOT NULL AND status <> 'cancelled')"
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE events DROP CONSTRAINT ex_events_room_time")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_room_id_rooms'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_events_room_id'))
        batch_op.drop_column('room_id')

    with op.batch_alter_table('station_communities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_station_communities_community_id'))

    op.drop_table('station_communities')
    op.drop_table('rooms')
    op.drop_table('stations')
