/**
 * Compile a Dataform project in this process with the project's own @dataform/core, the way the Dataform CLI's
 * compile worker does, without the CLI.
 *
 * `dataform compile --json` starts the CLI, which forks a worker that loads @dataform/core and every project file in
 * vm2 sandboxes. vm2 parses each loaded source with acorn and proxies every object crossing its bridge: measured on
 * this project, the worker spends ≈ 4.5 of its ≈ 5.5 CPU s there (acorn 1.7 s, the bridge 1.4 s, lstat 0.9 s,
 * garbage collection 1.4 s; @dataform/core itself ≈ 1 s), plus ≈ 1.2 s for the CLI parent. This module does what the
 * worker does (its `compile` in @dataform/cli's worker_bundle.js) with node:vm:
 * - a fresh context per compile (core keeps its session and the includes in globals);
 * - a small CommonJS loader in which every module (core's bundle and the project's .js/.sqlx/.yaml files) goes
 *   through core's own `compiler` and is tracked on the file stack core reads when a stack trace names no file;
 * - `require` of a bare name resolves as in the worker: a package from node_modules whose real path is inside the
 *   project (one linked from elsewhere is not found), else a file of the project folder (core requires `includes/x.js`
 *   and `definitions/y.sqlx` by such names); builtins: `path` only;
 * - core's `main` gets the CLI's request (the project's files; `projectConfigOverride` = the CLI's --vars and
 *   --default-database) and its response is decoded with core's own .proto files into the JSON the CLI prints.
 * test/dataform-core.test.ts checks the result equals `dataform compile --json`'s for this project and others.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { globSync } from "glob";
import protobuf from "protobufjs";
import { packageRoot } from "../util/package-root.ts";

/** The project's @dataform/core if it has one, else the one installed with funnelcredit (as for the CLI). */
export function dataformCoreDir(projectDir: string): string {
  const own = path.join(projectDir, "node_modules", "@dataform", "core");
  return existsSync(path.join(own, "bundle.js")) ? own : path.join(packageRoot(), "node_modules", "@dataform", "core");
}

/** What the CLI's --vars / --default-database become: CompileConfig.projectConfigOverride. */
export interface ProjectConfigOverride {
  vars?: Record<string, string>;
  defaultDatabase?: string;
}

interface CoreExports {
  compiler: (code: string, file: string) => string;
  main: (request: string) => string;
}

const SOURCE_EXTENSIONS = ["js", "sql", "sqlx", "yaml", "yml"];

/**
 * Compile `projectDir` and return the graph as `dataform compile --json` prints it (parsed). `timeoutMs` bounds the
 * project's code as the CLI's --timeout does (vm's timeout: a loop in an include is stopped, "Script execution timed out").
 */
export function compileWithCore(projectDir: string, override: ProjectConfigOverride, timeoutMs: number): unknown {
  const root = realpathSync(path.resolve(projectDir));
  const coreDir = dataformCoreDir(root);
  const protos = protosOf(coreDir);
  const loader = new SandboxLoader(root, path.join(coreDir, "bundle.js"));
  const request = protos.request.create({
    compile: {
      compileConfig: {
        projectDir: root,
        filePaths: projectFiles(root),
        projectConfigOverride: {
          ...(override.defaultDatabase ? { defaultDatabase: override.defaultDatabase } : {}),
          ...(override.vars && Object.keys(override.vars).length ? { vars: override.vars } : {}),
        },
      },
    },
  });
  const requestBytes = protos.request.encode(request).finish();
  const encoded = protobuf.util.base64.encode(requestBytes, 0, requestBytes.length);
  const answer = loader.runMain(encoded, timeoutMs);
  const bytes = new Uint8Array(protobuf.util.base64.length(answer));
  protobuf.util.base64.decode(answer, bytes, 0);
  const response = protos.response.decode(bytes) as unknown as { compile?: { compiledGraph?: protobuf.Message } };
  const graph = response.compile?.compiledGraph ?? protos.graph.create();
  // The CLI prints JSON.stringify(graph): protobuf's toJSON (enums and 64-bit integers as strings, defaults left out).
  return JSON.parse(JSON.stringify(graph));
}

interface Protos { request: protobuf.Type; response: protobuf.Type; graph: protobuf.Type }
const protosByDir = new Map<string, Protos>();

function protosOf(coreDir: string): Protos {
  let p = protosByDir.get(coreDir);
  if (!p) {
    const rootNs = new protobuf.Root();
    // The .proto files import each other by bare name and google/protobuf/* (protobufjs ships those).
    rootNs.resolvePath = (_origin, target) => (target.startsWith("google/protobuf/") ? target : path.join(coreDir, path.basename(target)));
    rootNs.loadSync(path.join(coreDir, "core.proto"), { keepCase: false });
    rootNs.resolveAll();
    p = {
      request: rootNs.lookupType("dataform.CoreExecutionRequest"),
      response: rootNs.lookupType("dataform.CoreExecutionResponse"),
      graph: rootNs.lookupType("dataform.CompiledGraph"),
    };
    protosByDir.set(coreDir, p);
  }
  return p;
}

/**
 * The files the CLI's worker lists for core, in its order (which decides the order of load errors): the same glob,
 * `!(node_modules)/**\/*.*` under the project.
 */
function projectFiles(root: string): string[] {
  return Array.from(new Set(globSync("!(node_modules)/**/*.*", { cwd: root })));
}

/** Compiled scripts of core's bundle, by path: V8 parses the 770 KB once per process. */
const scriptCache = new Map<string, vm.Script>();

/** One compile's CommonJS world inside a fresh context. */
class SandboxLoader {
  private readonly context: vm.Context;
  private readonly modules = new Map<string, { exports: unknown }>();
  private readonly fileStack: string[] = [];
  private readonly core: CoreExports;
  /** The worker runs core's `main` from a script it names index.js in the project folder. */
  private readonly indexFile: string;

  constructor(private readonly root: string, private readonly coreBundle: string) {
    const fileStack = this.fileStack;
    this.indexFile = path.join(root, "index.js");
    const sandbox: Record<string, unknown> = { console };
    this.context = vm.createContext(sandbox, { name: "dataform-compile" });
    // Core falls back to this when a stack trace names no project file (the worker defines the same getter).
    vm.runInContext("globalThis.global = globalThis;", this.context);
    Object.defineProperty(sandbox, "__dataform_current_file", { configurable: true, get: () => (fileStack.length ? fileStack[fileStack.length - 1] : null) });
    // Core names an action's file from the outermost stack frame inside the project (getCallerFile). In the worker
    // every frame below the sandbox is the CLI's, in node_modules; here they are funnelcredit's, which may sit inside
    // the project folder (a checkout compiling itself): core sees only the sandbox's frames, as in the worker.
    const inSandbox = (file: string | null | undefined): boolean => !!file && (file === this.indexFile || this.modules.has(file));
    vm.runInContext(`(() => {
      let prepare;
      Object.defineProperty(Error, "prepareStackTrace", {
        configurable: true,
        get: () => prepare,
        set: (f) => { prepare = typeof f === "function" ? (e, frames) => f(e, frames.filter((c) => __dfInSandbox(c.getFileName()))) : f; },
      });
    })()`, this.context);
    sandbox.__dfInSandbox = inSandbox;
    // Core's own bundle is loaded as-is; later modules go through its compiler.
    this.core = this.load(coreBundle, (code) => code) as CoreExports;
  }

  /** The worker's last step: settings as globals, then core's `main` (run as a script, so the timeout applies). */
  runMain(request: string, timeoutMs: number): string {
    const req = this.requireFrom(this.root);
    const g = vm.runInContext("globalThis", this.context) as Record<string, unknown>;
    if (existsSync(path.join(this.root, "workflow_settings.yaml"))) g.workflowSettingsYaml = req("./workflow_settings.yaml");
    if (existsSync(path.join(this.root, "dataform.json"))) g.dataformJson = req("./dataform.json");
    g.__dfMain = () => (req("@dataform/core") as CoreExports).main(request);
    return vm.runInContext("__dfMain()", this.context, { timeout: timeoutMs, filename: this.indexFile }) as string;
  }

  private requireFrom(dir: string): (name: string) => unknown {
    return (name: string) => {
      if (name === "path") return path;
      if (isBuiltin(name)) throw notFound(name);
      const file = this.resolve(name, dir);
      if (!file) throw notFound(name);
      const known = this.modules.get(file);
      if (known) return known.exports;
      if (file === this.coreBundle) return this.core;
      return this.load(file, (code) => this.core.compiler(code, file));
    };
  }

  private resolve(name: string, dir: string): string | undefined {
    if (name.startsWith("./") || name.startsWith("../") || path.isAbsolute(name)) return withExtension(path.resolve(dir, name));
    if (name === "@dataform/core") return this.coreBundle;
    // A package the project installed, from node_modules at or above `dir`; like the worker's sandbox, only one whose
    // real path is inside the project (as `npm ci` leaves it; a package linked from elsewhere is not found).
    try {
      const found = realpathSync(createRequire(path.join(dir, "noop.js")).resolve(name));
      if (found.startsWith(this.root + path.sep)) return found;
    } catch {
      // not a package: a file of the project
    }
    return withExtension(path.join(this.root, name));
  }

  private load(file: string, compile: (code: string) => string): unknown {
    const module = { exports: {} as unknown };
    this.modules.set(file, module);
    if (file.endsWith(".json")) {
      module.exports = JSON.parse(readFileSync(file, "utf8"));
      return module.exports;
    }
    let script = file === this.coreBundle ? scriptCache.get(file) : undefined;
    if (!script) {
      const body = compile(readFileSync(file, "utf8"));
      script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, { filename: file });
      if (file === this.coreBundle) scriptCache.set(file, script);
    }
    const fn = script.runInContext(this.context) as (e: unknown, r: unknown, m: unknown, f: string, d: string) => void;
    this.fileStack.push(file);
    try {
      fn(module.exports, this.requireFrom(path.dirname(file)), module, file, path.dirname(file));
    } finally {
      this.fileStack.pop();
    }
    return module.exports;
  }
}

const notFound = (name: string): Error => Object.assign(new Error(`Cannot find module '${name}'`), { code: "MODULE_NOT_FOUND" });

/** `file` itself, or with one of the source extensions, or its index.js (vm2's resolution of a path). */
function withExtension(file: string): string | undefined {
  if (existsSync(file) && statSync(file).isFile()) return file;
  for (const ext of [...SOURCE_EXTENSIONS, "json"]) if (existsSync(`${file}.${ext}`)) return `${file}.${ext}`;
  const index = path.join(file, "index.js");
  return existsSync(index) ? index : undefined;
}
