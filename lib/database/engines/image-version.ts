/**
 * A pinned tag of an official image: the base of the presets' enum-like version classes
 * (`MysqlVersion`, `PostgresVersion`, ...), which add their tested constants and `of()`.
 */
export abstract class ImageVersion {
  protected constructor(
    /** The image repository, e.g. `postgres`. */
    public readonly repository: string,
    /** The image tag. */
    public readonly version: string,
  ) {}

  /** The image reference, `<repository>:<version>`. */
  public get image(): string {
    return `${this.repository}:${this.version}`;
  }
}
