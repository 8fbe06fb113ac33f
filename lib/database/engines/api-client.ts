// The members' client of the Kubernetes API, for the presets that record their set's founding in
// a Lease (PostgreSQL and MySQL with streaming replicas, Redis with replicas).

/** How the members reach the Kubernetes API to read and create their set's founding Lease. */
export interface ApiClientOptions {
  /**
   * A pinned image with a POSIX `sh` and `curl`, for the init container that reads and creates
   * the set's founding Lease (the database images have no HTTP client).
   * @default 'docker.io/curlimages/curl:8.14.1'
   */
  readonly apiClientImage?: string;
  /**
   * Where the NetworkPolicy lets the members reach the API server (the addresses of the
   * `kubernetes` Service's endpoints).
   * @default ['0.0.0.0/0'] - any address, on `apiServerPorts` only
   */
  readonly apiServerCidrs?: string[];
  /**
   * The API server endpoints' ports.
   * @default [443, 6443]
   */
  readonly apiServerPorts?: number[];
}
