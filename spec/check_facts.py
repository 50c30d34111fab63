#!/usr/bin/env python3
"""Check that spec/box-upload.yaml states the same facts as Box's openapi.json.

Usage:
    python3 spec/check_facts.py [--box PATH_TO_openapi.json] [--spec PATH_TO_yaml]
                                [--config PATH_TO_codegen.toml] [-v]

The script takes from Box's file the operations that codegen.toml selects (its
`[select]` table: every operation, or those with one of its tags or operationIds) and
the closure of the components they reference, removes the prose (description, summary,
example, examples, title, externalDocs, x-* extensions), does the same with our YAML,
and compares the two. Order counts wherever it is part of the API: paths, operations
within a path, parameters, responses, headers, media types, server variables, schema
properties, component names, and every list (enum values, required, allOf/oneOf
members). The order of keywords inside one object (say `type` before `format`) does not.

It also checks that our prose is our own: no description or summary equal to one of
Box's (case and whitespace ignored), and no run of 8 words taken from Box's prose.
Finally it applies the overlays that codegen.toml lists, in order, to both documents
(as the generator does) and checks that every action's target exists in both, and
that every overlay in spec/overlays/ is listed there.

Exit status: 0 when everything matches, 1 on any difference, 2 on a usage or setup
error (missing file, missing PyYAML, no TOML reader). Needs Python 3.8+, PyYAML, and
on Python before 3.11 the `tomli` package (3.11 has `tomllib`).
"""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    print('check_facts.py needs PyYAML to read the YAML spec ("pip install pyyaml"); '
          'nothing was checked.', file=sys.stderr)
    sys.exit(2)
try:
    import tomllib
except ImportError:  # pragma: no cover - Python before 3.11
    try:
        import tomli as tomllib
    except ImportError:
        print('check_facts.py needs a TOML reader for codegen.toml: Python 3.11+, or '
              '"pip install tomli"; nothing was checked.', file=sys.stderr)
        sys.exit(2)

HTTP_METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')
PROSE_KEYS = {'description', 'summary', 'example', 'examples', 'title', 'externalDocs'}
NGRAM = 8

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent
DEFAULT_BOX = REPO_ROOT.parent / 'shared' / 'box-openapi' / 'openapi.json'
DEFAULT_CONFIG = SCRIPT_DIR / 'codegen.toml'


class OMap(dict):
    """A map whose key order is part of the facts (names -> things)."""


def esc(token):
    return str(token).replace('~', '~0').replace('/', '~1')


def is_prose(key):
    return key in PROSE_KEYS or key.startswith('x-')


# ---------------------------------------------------------------- normalising
# Each function walks one kind of OpenAPI object, so that a schema property that is
# *named* "description" or "title" is kept while the description keyword is dropped.

def n_schema(s):
    if not isinstance(s, dict):
        return s  # e.g. additionalProperties: true
    out = {}
    for k, v in s.items():
        if is_prose(k):
            continue
        if k == 'properties':
            out[k] = OMap((name, n_schema(sub)) for name, sub in v.items())
        elif k in ('items', 'not', 'additionalProperties'):
            out[k] = n_schema(v)
        elif k in ('allOf', 'oneOf', 'anyOf'):
            out[k] = [n_schema(sub) for sub in v]
        elif k == 'discriminator':
            out[k] = {dk: (OMap(dv) if dk == 'mapping' else dv) for dk, dv in v.items()}
        else:
            out[k] = v
    return out


def n_content(content):
    out = OMap()
    for media_type, media in content.items():
        mo = {}
        for k, v in media.items():
            if is_prose(k):
                continue
            if k == 'schema':
                mo[k] = n_schema(v)
            elif k == 'encoding':
                mo[k] = OMap((name, n_header_like(e)) for name, e in v.items())
            else:
                mo[k] = v
        out[media_type] = mo
    return out


def n_header_like(obj):
    """Parameter, header or encoding object."""
    out = {}
    for k, v in obj.items():
        if is_prose(k):
            continue
        if k == 'schema':
            out[k] = n_schema(v)
        elif k == 'content':
            out[k] = n_content(v)
        elif k == 'headers':
            out[k] = OMap((name, n_header_like(h)) for name, h in v.items())
        else:
            out[k] = v
    return out


def n_response(r):
    out = {}
    for k, v in r.items():
        if is_prose(k):
            continue
        if k == 'content':
            out[k] = n_content(v)
        elif k == 'headers':
            out[k] = OMap((name, n_header_like(h)) for name, h in v.items())
        elif k == 'links':
            out[k] = OMap((name, {lk: lv for lk, lv in link.items() if not is_prose(lk)})
                          for name, link in v.items())
        else:
            out[k] = v
    return out


def n_request_body(rb):
    out = {}
    for k, v in rb.items():
        if is_prose(k):
            continue
        out[k] = n_content(v) if k == 'content' else v
    return out


def n_server(sv):
    out = {}
    for k, v in sv.items():
        if is_prose(k):
            continue
        if k == 'variables':
            out[k] = OMap((name, {vk: vv for vk, vv in var.items() if not is_prose(vk)})
                          for name, var in v.items())
        else:
            out[k] = v
    return out


def n_operation(op):
    out = {}
    for k, v in op.items():
        if is_prose(k):
            continue
        if k == 'parameters':
            out[k] = [n_header_like(p) for p in v]
        elif k == 'requestBody':
            out[k] = n_request_body(v)
        elif k == 'responses':
            out[k] = OMap((str(code), n_response(r)) for code, r in v.items())
        elif k == 'servers':
            out[k] = [n_server(sv) for sv in v]
        else:
            out[k] = v
    return out


def n_security_scheme(s):
    out = {}
    for k, v in s.items():
        if is_prose(k):
            continue
        if k == 'flows':
            flows = OMap()
            for name, flow in v.items():
                fo = {}
                for fk, fv in flow.items():
                    if is_prose(fk):
                        continue
                    # scope descriptions are prose; the scope names are facts
                    fo[fk] = OMap((scope, None) for scope in fv) if fk == 'scopes' else fv
                flows[name] = fo
            out[k] = flows
        else:
            out[k] = v
    return out


COMPONENT_NORMALISERS = {
    'schemas': n_schema,
    'parameters': n_header_like,
    'headers': n_header_like,
    'responses': n_response,
    'requestBodies': n_request_body,
    'securitySchemes': n_security_scheme,
}


# ---------------------------------------------------------------- selecting

class Selection:
    """codegen.toml's `[select]`: an operation is selected when any rule matches it
    (the same rule as the generator's `Config::selects`)."""

    def __init__(self, select):
        self.all = bool(select.get('all', False))
        self.tags = list(select.get('tags', []))
        self.ids = list(select.get('operations', []))

    def selects(self, op):
        return (self.all or op.get('operationId') in self.ids
                or any(tag in self.tags for tag in op.get('tags') or []))

    def __str__(self):
        rules = (['every operation'] if self.all else []) + \
            [f'tag {t!r}' for t in self.tags] + [f'operationId {i!r}' for i in self.ids]
        return ', '.join(rules) or 'nothing'


def selected_operations(doc, selection):
    """[(path, method)] of the operations `selection` takes, in document order."""
    found = []
    for path, item in doc.get('paths', {}).items():
        for method, op in item.items():
            if method in HTTP_METHODS and selection.selects(op):
                found.append((path, method))
    return found


def refs_in(node, acc):
    if isinstance(node, dict):
        ref = node.get('$ref')
        if isinstance(ref, str):
            acc.add(ref)
        for v in node.values():
            refs_in(v, acc)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, acc)


def component_closure(doc, roots):
    """{kind: set(names)} reachable through $ref from the root nodes."""
    seen = {}
    todo = []
    for root in roots:
        acc = set()
        refs_in(root, acc)
        todo.extend(acc)
    while todo:
        ref = todo.pop()
        m = re.fullmatch(r'#/components/([^/]+)/(.+)', ref)
        if not m:
            raise SystemExit(f'unsupported $ref {ref!r}')
        kind, name = m.group(1), m.group(2).replace('~1', '/').replace('~0', '~')
        if name in seen.setdefault(kind, set()):
            continue
        seen[kind].add(name)
        target = doc.get('components', {}).get(kind, {}).get(name)
        if target is None:
            raise SystemExit(f'dangling $ref {ref!r}')
        acc = set()
        refs_in(target, acc)
        todo.extend(acc)
    return seen


def facts(doc, ops, closure):
    """The normalised slice of a document: the facts that must be equal."""
    paths = OMap()
    for path, method in ops:
        item = doc['paths'][path]
        pi = paths.setdefault(path, OMap())
        pi[method] = n_operation(item[method])
    for path in paths:
        item = doc['paths'][path]
        for k in ('parameters', 'servers'):
            if k in item:  # path-level parameters/servers apply to every operation
                paths[path]['@' + k] = ([n_header_like(p) for p in item[k]] if k == 'parameters'
                                        else [n_server(sv) for sv in item[k]])
    components = OMap()
    all_components = doc.get('components', {})
    for kind, names in sorted(closure.items()):
        normalise = COMPONENT_NORMALISERS.get(kind)
        if normalise is None:
            raise SystemExit(f'components kind {kind!r} is not supported by this check')
        # keep the document's own order of component names
        components[kind] = OMap((name, normalise(all_components[kind][name]))
                                for name in all_components[kind] if name in names)
    return {
        'openapi': doc.get('openapi'),
        'servers': [n_server(sv) for sv in doc.get('servers', [])],
        'security': doc.get('security'),
        'paths': paths,
        'components': components,
    }


# ---------------------------------------------------------------- comparing

def kind_of(v):
    if isinstance(v, OMap):
        return 'ordered map'
    if isinstance(v, dict):
        return 'object'
    if isinstance(v, list):
        return 'array'
    if isinstance(v, bool):
        return 'boolean'
    if isinstance(v, (int, float)):
        return 'number'
    if v is None:
        return 'null'
    return type(v).__name__


def short(v):
    text = json.dumps(v, default=str)
    return text if len(text) <= 100 else text[:97] + '...'


def diff(box, ours, ptr, out):
    if kind_of(box) != kind_of(ours):
        out.append(f'{ptr or "/"}: Box has {kind_of(box)} {short(box)}, ours has {kind_of(ours)} {short(ours)}')
        return
    if isinstance(box, dict):
        bk, ok = list(box), list(ours)
        for k in bk:
            if k not in ours:
                out.append(f'{ptr}/{esc(k)}: missing in ours (Box has {short(box[k])})')
        for k in ok:
            if k not in box:
                out.append(f'{ptr}/{esc(k)}: not in Box (ours has {short(ours[k])})')
        if isinstance(box, OMap):
            common_b = [k for k in bk if k in ours]
            common_o = [k for k in ok if k in box]
            if common_b != common_o:
                out.append(f'{ptr or "/"}: key order differs: Box {common_b}, ours {common_o}')
        for k in bk:
            if k in ours:
                diff(box[k], ours[k], f'{ptr}/{esc(k)}', out)
    elif isinstance(box, list):
        if (len(box) == len(ours) and box != ours and all(not isinstance(x, (dict, list)) for x in box)
                and sorted(map(json.dumps, box)) == sorted(map(json.dumps, ours))):
            out.append(f'{ptr}: order differs: Box {short(box)}, ours {short(ours)}')
            return
        if len(box) != len(ours):
            out.append(f'{ptr}: Box has {len(box)} items, ours has {len(ours)}')
        for i, (b, o) in enumerate(zip(box, ours)):
            diff(b, o, f'{ptr}/{i}', out)
    elif box != ours:
        out.append(f'{ptr}: Box has {short(box)}, ours has {short(ours)}')


# ---------------------------------------------------------------- prose

def collect_prose(node, ptr, acc):
    """Every description/summary/title string with its pointer, and OAuth scope texts."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f'{ptr}/{esc(k)}'
            if k in ('description', 'summary', 'title') and isinstance(v, str):
                acc.append((p, v))
            elif k == 'scopes' and isinstance(v, dict):
                acc.extend((f'{p}/{esc(s)}', t) for s, t in v.items() if isinstance(t, str))
            else:
                collect_prose(v, p, acc)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            collect_prose(v, f'{ptr}/{i}', acc)


def norm_text(text):
    return ' '.join(text.lower().split()).strip(' .')


def words(text):
    return re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.lower())


def ngrams(ws, n=NGRAM):
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


class ProseIndex:
    """Box's prose, for telling whether a text of ours was taken from it."""

    def __init__(self, box_doc):
        box_prose = []
        collect_prose(box_doc, '', box_prose)
        self.whole = {norm_text(t) for _, t in box_prose if norm_text(t)}
        self.grams = set()
        for _, t in box_prose:
            self.grams |= ngrams(words(t))

    def check(self, where, text, problems):
        if norm_text(text) in self.whole:
            problems.append(f'{where}: text equals a description/summary in Box\'s file: {short(text)}')
            return
        ws = words(text)
        hits = [' '.join(ws[i:i + NGRAM]) for i in range(len(ws) - NGRAM + 1)
                if tuple(ws[i:i + NGRAM]) in self.grams]
        if hits:
            problems.append(f'{where}: {NGRAM}-word run taken from Box\'s prose: "{hits[0]}"')


def check_prose(index, doc, label, problems):
    ours = []
    collect_prose(doc, '', ours)
    for ptr, text in ours:
        index.check(f'{label}{ptr}', text, problems)
    return len(ours)


# ---------------------------------------------------------------- overlays

def jsonpath_select(doc, path):
    """Minimal JSONPath: $ followed by .name or ['name'] steps only."""
    if not path.startswith('$'):
        raise ValueError('does not start with $')
    rest, node = path[1:], doc
    token = re.compile(r"\.([A-Za-z_][\w-]*)|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")
    while rest:
        m = token.match(rest)
        if not m:
            raise ValueError(f'unsupported JSONPath syntax at {rest!r}')
        key = next(g for g in m.groups() if g is not None)
        if not isinstance(node, dict) or key not in node:
            return None
        node, rest = node[key], rest[m.end():]
    return node


def merge_update(node, update):
    """The generator's `update`: objects merge recursively, arrays get the value appended."""
    if isinstance(node, dict) and isinstance(update, dict):
        for k, v in update.items():
            if k in node and isinstance(node[k], (dict, list)):
                merge_update(node[k], v)
            else:
                node[k] = copy.deepcopy(v)
    elif isinstance(node, list):
        node.append(copy.deepcopy(update))


def remove_target(doc, path):
    """Deletes what a (minimal) JSONPath selects; False when it selects nothing."""
    m = re.fullmatch(r"(.*)(?:\.([A-Za-z_][\w-]*)|\['((?:[^'\\]|\\.)*)'\])", path)
    if not m:
        return False
    parent = jsonpath_select(doc, m.group(1))
    key = m.group(2) if m.group(2) is not None else m.group(3)
    if not isinstance(parent, dict) or key not in parent:
        return False
    del parent[key]
    return True


def check_overlays(overlay_paths, overlay_dir, docs, prose_index, problems):
    """Applies the overlays, in order, to copies of the documents, checking each action's
    target in each; returns the number of actions."""
    docs = [(label, copy.deepcopy(doc)) for label, doc in docs]
    count = 0
    for path in overlay_paths:
        try:
            overlay = yaml.safe_load(path.read_text(encoding='utf-8'))
        except (OSError, yaml.YAMLError) as e:
            problems.append(f'{path.name}: cannot read the overlay: {e}')
            continue
        if not isinstance(overlay, dict) or 'overlay' not in overlay:
            problems.append(f'{path.name}: not an OpenAPI Overlay document (no `overlay` key)')
            continue
        check_prose(prose_index, overlay, f'{path.name}#', problems)
        for i, action in enumerate(overlay.get('actions') or []):
            count += 1
            target = action.get('target', '')
            update = action.get('update')
            for label, doc in docs:
                try:
                    node = jsonpath_select(doc, target)
                except ValueError as e:
                    problems.append(f'{path.name} action {i}: target {target!r}: {e}')
                    break
                if node is None:
                    problems.append(f'{path.name} action {i}: target {target!r} selects nothing in {label}')
                elif action.get('remove') is True:
                    remove_target(doc, target)
                elif not isinstance(node, (dict, list)):
                    problems.append(f'{path.name} action {i}: target selects a {kind_of(node)} in {label}, '
                                    'an update needs an object or an array')
                else:
                    if isinstance(update, dict) and isinstance(node, dict):
                        clash = [k for k in update if k in node]
                        if clash:
                            problems.append(f'{path.name} action {i}: {label} already has {clash} at the '
                                            'target; the overlay would merge into it instead of adding')
                    merge_update(node, update)
    listed = {p.resolve() for p in overlay_paths}
    for path in sorted(overlay_dir.glob('*.y*ml')) if overlay_dir.is_dir() else []:
        if path.resolve() not in listed:
            problems.append(f'{path.name}: an overlay in {overlay_dir.name}/ that codegen.toml does not apply')
    return count


# ---------------------------------------------------------------- main

def load_config(path):
    """codegen.toml: the selection, the spec it names and the overlays, in order."""
    config = tomllib.loads(path.read_text(encoding='utf-8'))
    select = config.get('select') or {}
    spec = config.get('spec')
    return {
        'selection': Selection(select),
        'spec': path.parent / spec if spec else None,
        'overlays': [path.parent / o for o in config.get('overlays') or []],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--box', type=Path, default=DEFAULT_BOX,
                    help=f'Box\'s openapi.json (default: {DEFAULT_BOX})')
    ap.add_argument('--config', type=Path, default=DEFAULT_CONFIG,
                    help=f'the generation config: selection, spec and overlays (default: {DEFAULT_CONFIG})')
    ap.add_argument('--spec', type=Path,
                    help='our YAML spec (default: the `spec` that the config names)')
    ap.add_argument('-v', '--verbose', action='store_true', help='print what was compared')
    args = ap.parse_args()

    try:
        config = load_config(args.config)
    except (OSError, ValueError) as e:
        print(f'check_facts.py: cannot read the config {args.config}: {e}', file=sys.stderr)
        return 2
    spec_path = args.spec or config['spec']
    if spec_path is None:
        print(f'check_facts.py: {args.config} names no `spec`; pass --spec', file=sys.stderr)
        return 2
    selection = config['selection']
    try:
        box = json.loads(args.box.read_text(encoding='utf-8'))
        ours = yaml.safe_load(spec_path.read_text(encoding='utf-8'))
    except (OSError, ValueError, yaml.YAMLError) as e:
        print(f'check_facts.py: cannot read input: {e}', file=sys.stderr)
        return 2

    problems = []
    box_ops = selected_operations(box, selection)
    our_ops = selected_operations(ours, selection)
    if not box_ops:
        print(f'check_facts.py: {args.config} selects no operation of {args.box} ({selection})',
              file=sys.stderr)
        return 2
    # every operation in our spec must be one of the slice, selected or not
    for path, item in (ours.get('paths') or {}).items():
        for method in item:
            if method in HTTP_METHODS and (path, method) not in box_ops:
                problems.append(f'/paths/{esc(path)}/{method}: not one of the operations selected '
                                'from Box\'s file')

    box_roots = [box['paths'][p][m] for p, m in box_ops]
    box_roots += [box['paths'][p].get('parameters', []) for p, _ in box_ops]
    box_roots.append(box.get('security', []))
    closure = component_closure(box, box_roots)
    # the security schemes named by the global/operation security requirements
    sec_names = {name for req in box.get('security', []) for name in req}
    for p, m in box_ops:
        sec_names |= {name for req in box['paths'][p][m].get('security', []) for name in req}
    if sec_names:
        closure.setdefault('securitySchemes', set()).update(sec_names)

    our_closure = {kind: set((ours.get('components') or {}).get(kind, {}))
                   for kind in set(closure) | set((ours.get('components') or {}))}
    for path, method in box_ops:
        if (path, method) not in our_ops:
            problems.append(f'/paths/{esc(path)}/{method}: missing in ours, or not selected by '
                            f'{args.config.name} ({selection})')
    # compare what both have, so that one missing operation does not hide everything else;
    # Box's side keeps Box's order, ours keeps ours, so order differences show
    try:
        box_facts = facts(box, [op for op in box_ops if op in our_ops], closure)
        our_facts = facts(ours, [op for op in our_ops if op in box_ops], our_closure)
    except SystemExit as e:
        print(f'check_facts.py: {e}', file=sys.stderr)
        return 1
    diff(box_facts, our_facts, '', problems)

    # every tag used by our operations is declared at the top level
    declared = {t.get('name') for t in ours.get('tags') or []}
    used = []
    for path, method in our_ops:
        used += [t for t in ours['paths'][path][method].get('tags') or [] if t not in used]
    for tag in used:
        if tag not in declared:
            problems.append(f'/tags: tag {tag!r} is used by the operations but not declared')

    prose_index = ProseIndex(box)
    n_prose = check_prose(prose_index, ours, '', problems)
    docs = [('Box\'s openapi.json', box), ('our YAML', ours)]
    n_overlay_actions = check_overlays(config['overlays'], SCRIPT_DIR / 'overlays', docs,
                                       prose_index, problems)

    n_schemas = len(closure.get('schemas', ()))
    if args.verbose:
        print(f'Box: {args.box}')
        print(f'ours: {spec_path}')
        print(f'selected by {args.config}: {selection}')
        for path, method in box_ops:
            print(f'  {method.upper():7} {path}  ({box["paths"][path][method].get("operationId")})')
        for kind, names in sorted(closure.items()):
            print(f'  components.{kind}: {", ".join(n for n in box["components"][kind] if n in names)}')
        print(f'  {n_prose} prose strings checked, {n_overlay_actions} overlay actions checked')

    summary = (f'{len(box_ops)} operations, {n_schemas} schemas, '
               f'{n_overlay_actions} overlay actions')
    if problems:
        for line in problems:
            print(line)
        print(f'{len(problems)} problem(s) comparing {spec_path.name} with Box\'s slice ({summary})',
              file=sys.stderr)
        return 1
    print(f'{summary}: facts match')
    return 0


if __name__ == '__main__':
    sys.exit(main())
