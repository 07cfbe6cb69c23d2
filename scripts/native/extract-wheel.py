# Step 2 of npm run setup:native (scripts/native/wheel.mjs runs it):
#   python3 extract-wheel.py <wheel> <dest> <tfjs-node binding dir> <JSON list of library names>
# Extracts from the tensorflow-cpu wheel the libraries and the headers the addon's sources include
# (transitively, following #include "..." inside the wheel). That is ~20 headers (~100 KB),
# not the wheel's whole include/ tree (13,000 files, 268 MB) which the build never reads.
# Prints {relative path: size} of what it wrote.
import json, os, re, sys, zipfile
wheel, dest, binding_dir = sys.argv[1], sys.argv[2], sys.argv[3]
libs = json.loads(sys.argv[4])
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
inc_prefix = 'tensorflow/include/'
pat = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
todo = []
for f in sorted(os.listdir(binding_dir)):
    if f.endswith(('.cc', '.h')):
        todo += pat.findall(open(os.path.join(binding_dir, f), encoding='utf-8', errors='replace').read())
seen = set()
while todo:
    h = os.path.normpath(todo.pop())
    if h in seen or inc_prefix + h not in names:
        continue
    seen.add(h)
    todo += pat.findall(z.read(inc_prefix + h).decode('utf-8', 'replace'))
if 'tensorflow/c/c_api.h' not in seen or 'tensorflow/c/eager/c_api.h' not in seen:
    sys.exit('the wheel has no tensorflow/include/tensorflow/c/{c_api.h,eager/c_api.h}')
files = {}
for h in sorted(seen):
    out = os.path.join(dest, 'include', h)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'wb') as fh:
        fh.write(z.read(inc_prefix + h))
    files['include/' + h] = os.path.getsize(out)
os.makedirs(os.path.join(dest, 'lib'), exist_ok=True)
for lib in libs:
    member = 'tensorflow/' + lib
    if member not in names:
        sys.exit('the wheel has no ' + member)
    out = os.path.join(dest, 'lib', lib)
    with z.open(member) as src, open(out, 'wb') as fh:
        while True:
            b = src.read(1 << 22)
            if not b:
                break
            fh.write(b)
    files['lib/' + lib] = os.path.getsize(out)
print(json.dumps(files))
