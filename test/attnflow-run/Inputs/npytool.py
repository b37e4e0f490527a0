"""Small .npy helper for the attnflow-run / attnflow-compile lit tests.

  npytool.py save FILE EXPR            np.save(FILE, eval(EXPR)) with np in scope
  npytool.py write FILE HEXBYTES       write raw bytes (for malformed files)
  npytool.py print FILE...             print "dtype shape" and the values
  npytool.py assert EXPR NAME=FILE...  load the files as NAME, exit 1 unless
                                       EXPR is true (prints the arrays then)
  npytool.py absent FILE...            exit 1 if any FILE exists
  npytool.py same FILE FILE            exit 1 unless the files are identical
  npytool.py elf FILE                  exit 1 unless FILE is an ELF object
"""

import os
import sys

import numpy as np


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "save":
        np.save(args[0], eval(args[1], {"np": np}), allow_pickle=False)
    elif command == "write":
        with open(args[0], "wb") as f:
            f.write(bytes.fromhex(args[1]))
    elif command == "print":
        for path in args:
            a = np.load(path)
            print(a.dtype, a.shape)
            print(a.tolist())
    elif command == "assert":
        names = {"np": np}
        for binding in args[1:]:
            name, path = binding.split("=", 1)
            names[name] = np.load(path)
        if not eval(args[0], names):
            for binding in args[1:]:
                name = binding.split("=", 1)[0]
                print(f"{name} = {names[name]!r}", file=sys.stderr)
            print(f"assertion failed: {args[0]}", file=sys.stderr)
            return 1
    elif command == "absent":
        present = [path for path in args if os.path.exists(path)]
        if present:
            print("unexpected files: " + " ".join(present), file=sys.stderr)
            return 1
    elif command == "same":
        with open(args[0], "rb") as f, open(args[1], "rb") as g:
            if f.read() != g.read():
                print(f"{args[0]} and {args[1]} differ", file=sys.stderr)
                return 1
    elif command == "elf":
        with open(args[0], "rb") as f:
            header = f.read(18)
        # ELF magic, then e_type at offset 16: 1 = relocatable object.
        if header[:4] != b"\x7fELF" or int.from_bytes(header[16:18], "little") != 1:
            print(f"{args[0]} is not a relocatable ELF object", file=sys.stderr)
            return 1
        print("ELF relocatable object")
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
