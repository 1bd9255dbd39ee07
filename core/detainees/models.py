"""Detainee records, their placement history and the name keys used by search."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow, value_enum
from core.establishments.models import Establishment
from core.scoping import EstablishmentScoped


class LegalStatus(enum.StrEnum):
    pretrial = "pretrial"
    convicted = "convicted"
    released = "released"


class Sex(enum.StrEnum):
    male = "M"
    female = "F"


HELD_NATIONAL_ID_WHERE = "national_id IS NOT NULL AND legal_status <> 'released'"


class Detainee(EstablishmentScoped, Base):
    __tablename__ = "core_detainees"
    # one person (national id) is held at most once at a time, nationally: enforced by the
    # database so two simultaneous admissions cannot both pass the service's check
    __table_args__ = (
        Index(
            "uq_core_detainees_held_national_id",
            "national_id",
            unique=True,
            sqlite_where=text(HELD_NATIONAL_ID_WHERE),
            postgresql_where=text(HELD_NATIONAL_ID_WHERE),
        ),
        # unique (the id alone is): the parent key of the name keys' copy of the establishment
        # (see DetaineeNameKey), and a scoped listing reads an establishment's detainees by id
        Index("ix_core_detainees_establishment_id_id", "establishment_id", "id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(20), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name_ar: Mapped[str] = mapped_column(String(100), default="")
    last_name_ar: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(value_enum(Sex, 1))
    national_id: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    legal_status: Mapped[LegalStatus] = mapped_column(value_enum(LegalStatus, 16))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"), index=True)
    admitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    establishment: Mapped[Establishment] = relationship(lazy="joined")
    placements: Mapped[list[Placement]] = relationship(
        back_populates="detainee", order_by="Placement.started_at", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name_ar(self) -> str:
        return f"{self.first_name_ar} {self.last_name_ar}".strip()

    def display_name(self, locale: str | None = None) -> str:
        """The name in the page's script: Arabic on Arabic pages when recorded, else Latin."""
        if (locale or "").startswith("ar") and self.full_name_ar:
            return self.full_name_ar
        return self.full_name

    def other_name(self, locale: str | None = None) -> str:
        """The name in the other script, shown second ("" when only one is recorded)."""
        shown = self.display_name(locale)
        other = self.full_name if shown == self.full_name_ar else self.full_name_ar
        return "" if other == shown else other

    @property
    def is_released(self) -> bool:
        return self.legal_status == LegalStatus.released

    def __repr__(self) -> str:
        return f"<Detainee {self.registration_number}>"


class Placement(Base):
    """A stay of a detainee in one establishment; the open one has no ``ended_at``."""

    __tablename__ = "core_placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    detainee_id: Mapped[int] = mapped_column(
        ForeignKey("core_detainees.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason: Mapped[str] = mapped_column(String(40))  # admission | transfer | release
    note: Mapped[str] = mapped_column(String(300), default="")

    detainee: Mapped[Detainee] = relationship(back_populates="placements")
    establishment: Mapped[Establishment] = relationship(lazy="joined")


class DetaineeNameKey(Base):
    """One search key of one name token of a detainee (see :mod:`core.detainees.names`).

    ``establishment_id`` is the detainee's, copied so that a search scoped to an establishment
    reads only its own postings of a name (index ``(key, establishment_id, detainee_id)``)
    instead of every posting in the country. The copy cannot drift: the foreign key is the
    pair ``(establishment_id, detainee_id)`` → the detainee's ``(establishment_id, id)``,
    ``ON UPDATE CASCADE``, so a transfer (or any ``UPDATE`` of the detainee's establishment,
    whoever writes it) carries the keys along in the same statement.
    """

    __tablename__ = "core_detainee_name_keys"
    __table_args__ = (
        ForeignKeyConstraint(
            ["establishment_id", "detainee_id"],
            ["core_detainees.establishment_id", "core_detainees.id"],
            name="fk_core_detainee_name_keys_detainee_core_detainees",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        Index("ix_core_detainee_name_keys_key_detainee", "key", "detainee_id"),
        Index(
            "ix_core_detainee_name_keys_key_establishment",
            "key",
            "establishment_id",
            "detainee_id",
        ),
    )

    detainee_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    establishment_id: Mapped[int] = mapped_column()
    weight: Mapped[int] = mapped_column(default=1)


class Counter(Base):
    """Named counters advanced with a conditional ``UPDATE … RETURNING`` (registration numbers)."""

    __tablename__ = "core_counters"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
