"""``clinicall freeswitch-config CONFIG --out DIR``: write FreeSWITCH's side of the clinic as
files of clinicall's own, and say which lines to add to FreeSWITCH's own files.

The usual place is a ``clinicall`` folder in FreeSWITCH's conf dir (``--out
/etc/freeswitch/clinicall``); the include lines then name it ``$${conf_dir}/clinicall``, so
they survive a move of the conf dir.  Anywhere else, they name the folder's absolute path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clinicall.cli_args import (
    Handler,
    config_arg,
    generated_args,
    load_config_of,
    write_generated,
)
from clinicall.freeswitch_config.includes import CONF_DIR

#: What the generated files use; listed for the administrator, never switched on by clinicall.
MODULES = ("mod_event_socket", "mod_callcenter", "mod_cdr_csv", "mod_dptools", "mod_commands",
           "mod_dialplan_xml", "mod_sofia", "mod_sndfile", "mod_local_stream")  # fmt: skip


def include_dir_for(out: Path) -> str:
    """How FreeSWITCH should name ``out`` in an include line."""
    resolved = out.resolve()
    if (resolved.parent / "freeswitch.xml").is_file():
        return f"{CONF_DIR}/{resolved.name}"
    return str(resolved)


def freeswitch_config_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="a folder of clinicall's own for the generated files, e.g. "
                             "/etc/freeswitch/clinicall (created if missing)")
    generated_args(parser)
    parser.add_argument("--include-dir", default=None, metavar="PATH",
                        help="the folder as FreeSWITCH names it in the include lines "
                             "(default: $${conf_dir}/NAME inside FreeSWITCH's conf dir, else "
                             "the absolute path of --out)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.freeswitch_config import render_freeswitch_config
        from clinicall.settings import ClinicConfig

        config = load_config_of(args)
        assert isinstance(config, ClinicConfig)
        out: Path = args.out
        generated = render_freeswitch_config(
            config, include_dir=args.include_dir or include_dir_for(out))
        if not write_generated(out, generated.files, diff=args.diff, force=args.force):
            return 0
        print("\nAdd each line below to FreeSWITCH's own file, once (the files above are "
              "clinicall's; running this command again never touches yours):")
        for include in generated.includes:
            print(f"  {include.describe()}")
        print(f"\nModules used (load them in modules.conf.xml): {', '.join(MODULES)}.")
        print("Prompts: clinicall prompts --out <FreeSWITCH's sounds dir> (they go to "
              "<sounds dir>/clinicall/<language>/<prompt>.wav).")
        print("Then: fs_cli -x 'reloadxml' and fs_cli -x 'reload mod_callcenter', or restart "
              "FreeSWITCH.")
        return 0

    return run
