"""``clinicall doctor [FILE]``: its arguments and handler (see :mod:`clinicall.doctor`)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from clinicall.cli_args import Handler, checked_db_option, config_arg, load_config_of

DEFAULT_ETC = Path("/etc/asterisk")
DEFAULT_SOUNDS = Path("/usr/share/asterisk/sounds")


def doctor_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: the config's database.url)")
    parser.add_argument("--asterisk-etc", type=Path, default=DEFAULT_ETC, metavar="DIR",
                        help="Asterisk's config folder holding the clinicall_*.conf files "
                             "(default: %(default)s)")
    parser.add_argument("--sounds", type=Path, default=DEFAULT_SOUNDS, metavar="DIR",
                        help="the sounds folder 'clinicall prompts --out' wrote to "
                             "(default: %(default)s)")
    parser.add_argument("--simulated", action="store_true",
                        help="compare with the config generated with --simulated (the demo)")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="the --bind given to asterisk-config (default: %(default)s)")
    parser.add_argument("--agi-url", default=None,
                        help="the --agi-url given to asterisk-config, if any")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds each check may wait for an answer (default: %(default)s)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.doctor.checks import Options
        from clinicall.doctor.run import doctor
        from clinicall.settings import ClinicConfig

        config = load_config_of(args)
        assert isinstance(config, ClinicConfig)
        config.asterisk_engine()  # the doctor knows Asterisk only (EngineMismatch otherwise)
        url = checked_db_option(args.db) if args.db is not None else config.database.url
        options = Options(store_url=url, sounds=args.sounds, etc=args.asterisk_etc,
                          simulated=args.simulated, bind=args.bind, agi_url=args.agi_url,
                          timeout_s=args.timeout)
        checks = asyncio.run(doctor(config, options))
        return 0 if all(c.ok for c in checks) else 1

    return run
