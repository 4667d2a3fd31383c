/**
 * Model artifacts and run reports: a local folder by default, or `gs://bucket/prefix` through
 * @google-cloud/storage (credentials from Application Default Credentials).
 */
import { mkdir, readFile, writeFile, rename } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Storage } from "@google-cloud/storage";
import { SettingsError } from "../util/errors.ts";

export interface ArtifactStore {
  /** Where artifacts go, as the user wrote it (a folder or gs:// URI). */
  readonly location: string;
  /** Store bytes under a relative name (e.g. "runs/<id>/report.html"); returns the full URI/path. */
  put(name: string, data: string | Uint8Array, contentType?: string): Promise<string>;
  get(name: string): Promise<Buffer | undefined>;
  uri(name: string): string;
}

function checkName(name: string): void {
  if (!name || name.startsWith("/") || name.split("/").includes("..")) throw new Error(`invalid artifact name ${JSON.stringify(name)}`);
}

export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly location: string) {}
  uri(name: string): string {
    checkName(name);
    return path.resolve(this.location, name);
  }
  async put(name: string, data: string | Uint8Array): Promise<string> {
    const file = this.uri(name);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half a file.
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    return file;
  }
  async get(name: string): Promise<Buffer | undefined> {
    const file = this.uri(name);
    return existsSync(file) ? readFile(file) : undefined;
  }
}

class GcsArtifactStore implements ArtifactStore {
  constructor(
    readonly location: string,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly storage: Storage,
  ) {}
  uri(name: string): string {
    checkName(name);
    return `gs://${this.bucket}/${this.key(name)}`;
  }
  private key(name: string): string {
    return this.prefix ? `${this.prefix.replace(/\/+$/, "")}/${name}` : name;
  }
  async put(name: string, data: string | Uint8Array, contentType?: string): Promise<string> {
    await this.storage.bucket(this.bucket).file(this.key(name)).save(Buffer.from(data), { resumable: false, contentType });
    return this.uri(name);
  }
  async get(name: string): Promise<Buffer | undefined> {
    const f = this.storage.bucket(this.bucket).file(this.key(name));
    const [exists] = await f.exists();
    if (!exists) return undefined;
    const [buf] = await f.download();
    return buf;
  }
}

/** `./folder` or `gs://bucket/prefix`. */
export async function createArtifactStore(location: string, opts: { storage?: Storage } = {}): Promise<ArtifactStore> {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/(.*))?$/.exec(location);
  if (location.startsWith("gs://")) {
    if (!m) throw new SettingsError(`artifacts location ${location}: expected gs://bucket/prefix with a valid bucket name`);
    const storage = opts.storage ?? new (await import("@google-cloud/storage")).Storage();
    return new GcsArtifactStore(location, m[1]!, m[2] ?? "", storage);
  }
  return new LocalArtifactStore(location);
}
