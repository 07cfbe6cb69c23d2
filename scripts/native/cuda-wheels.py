# The CUDA side of `npm run setup:native -- --gpu` (scripts/native/cudaLibraries.mjs runs it):
#   python3 cuda-wheels.py requirements <tensorflow wheel>   the nvidia-* pins of its "and-cuda" extra, one a line
#   python3 cuda-wheels.py is-cuda <tensorflow wheel>        "True"/"False"/"unknown": build_info's is_cuda_build
#   python3 cuda-wheels.py extract <dest> <wheel>...         nvidia/<pkg>/lib/*.so* into <dest>/nvidia/<pkg>/lib;
#                                                            prints {relative path: size}
# The pins come from the wheel itself (its METADATA), so they always match the TensorFlow built.
import json, os, re, shutil, sys, zipfile

def metadata(z):
    name = next(n for n in z.namelist() if re.match(r'^[^/]+\.dist-info/METADATA$', n))
    return z.read(name).decode('utf-8', 'replace')

mode = sys.argv[1]
if mode == 'requirements':
    z = zipfile.ZipFile(sys.argv[2])
    for line in metadata(z).splitlines():
        m = re.match(r'^Requires-Dist:\s*([^;]+?)\s*;\s*extra\s*==\s*"and-cuda"', line)
        if m and m.group(1).startswith('nvidia-'):
            print(m.group(1).replace(' ', '').replace('(', '').replace(')', ''))
elif mode == 'is-cuda':
    z = zipfile.ZipFile(sys.argv[2])
    member = 'tensorflow/python/platform/build_info.py'
    if member not in z.namelist():
        print('unknown')
    else:
        m = re.search(r"'is_cuda_build',\s*(True|False)", z.read(member).decode('utf-8', 'replace'))
        print(m.group(1) if m else 'unknown')
elif mode == 'extract':
    dest, wheels = sys.argv[2], sys.argv[3:]
    lib = re.compile(r'^nvidia/([^/]+)/lib/([^/]+\.so(\.[0-9]+)*)$')
    files = {}
    for w in wheels:
        z = zipfile.ZipFile(w)
        for n in z.namelist():
            m = lib.match(n)
            if not m:
                continue
            rel = os.path.join('nvidia', m.group(1), 'lib', m.group(2))
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(n) as src, open(out, 'wb') as fh:
                shutil.copyfileobj(src, fh, 1 << 22)
            os.chmod(out, 0o755)
            files[rel] = os.path.getsize(out)
    print(json.dumps(files))
else:
    sys.exit('usage: cuda-wheels.py requirements|is-cuda|extract ...')
