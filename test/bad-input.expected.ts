/** The exact error of each bad input, by its description. */
export const EXPECTED_ERRORS: { [what: string]: string } = {
  "a set name with capitals":
    "StatefulDatabase 'test/db': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Orders'. Fix: use a name such as 'orders-db'.",
  "a set name with an underscore":
    "StatefulDatabase 'test/db': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'orders_db'. Fix: use a name such as 'orders-db'.",
  "a set name longer than 52 characters":
    "StatefulDatabase 'test/db': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'. Fix: use a name such as 'orders-db'.",
  "a set name ending in a dash":
    "StatefulDatabase 'test/db': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'orders-'. Fix: use a name such as 'orders-db'.",
  "an empty set name":
    "StatefulDatabase 'test/db': name must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got ''. Fix: use a name such as 'orders-db'.",
  "a headless Service name with a dot":
    "StatefulDatabase 'test/db': headlessServiceName must be a DNS-1123 label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'db.peers'. Fix: use a name such as 'orders-db'.",
  "a claim template name with capitals":
    "StatefulDatabase 'test/db': storage name must be a DNS-1123 label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Data'. Fix: use a name such as 'orders-db'.",
  "a claim template name longer than 63 characters":
    "StatefulDatabase 'test/db': storage name must be a DNS-1123 label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'. Fix: use a name such as 'orders-db'.",
  "a port name longer than 15 characters":
    "StatefulDatabase 'test/db': port name must be a DNS-1123 label of at most 15 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'postgres-primary'. Fix: use a name such as 'orders-db'.",
  "an init container name with capitals":
    "StatefulDatabase 'test/db': container name must be a DNS-1123 label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Init'. Fix: use a name such as 'orders-db'.",
  "an init container named main":
    "StatefulDatabase 'test/db': container name 'main' is used twice. Fix: give each init container a distinct name other than 'main'.",
  "two init containers with one name":
    "StatefulDatabase 'test/db': container name 'a' is used twice. Fix: give each init container a distinct name other than 'main'.",
  "a StorageClass name with capitals":
    "StorageClassFast 'test/Fast': name (taken from the construct id, as no name was given) must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Fast'. Fix: pass name: 'fast', or use a lower-case construct id.",
  "a pool name with an underscore":
    "NfsPersistentVolumePool 'test/pool': name must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'nfs_pool'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "an environment variable name with a space":
    "StatefulDatabase 'test/db': the database container has an invalid environment variable name 'MY VAR'. Fix: use letters, digits, '_', '-' and '.', not starting with a digit.",
  "a cluster domain with an underscore":
    "StatefulDatabase 'test/db': clusterDomain must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'cluster_local'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "a label key with a space":
    "NfsPersistentVolumePool 'test/pool': labels has an invalid label 'my label': 'x' (keys are [prefix/]name, values at most 63 alphanumerics, '-', '_' or '.'). Fix: e.g. { 'storage': 'pv' }.",
  "a claim size of zero":
    "StatefulDatabase 'test/db': storage size must be positive, got 0Gi. Fix: e.g. Size.gibibytes(1).",
  "a claim size of half a KiB":
    "StatefulDatabase 'test/db': storage size must be a whole number of KiB, got 0.5Ki. Fix: e.g. Size.mebibytes(512).",
  "a claim size that is not a Size":
    "StatefulDatabase 'test/db': storage size must be a Size, got '10Gi'. Fix: e.g. Size.gibibytes(1).",
  "a pool capacity of zero":
    "NfsPersistentVolumePool 'test/pool': capacity must be positive, got 0Mi. Fix: e.g. Size.gibibytes(1).",
  "a scratch volume limit of zero":
    "StatefulDatabase 'test/db': sizeLimit of 'cache' must be positive, got 0Mi. Fix: e.g. Size.gibibytes(1).",
  "negative replicas":
    "StatefulDatabase 'test/db': replicas must be a whole number from 0 to 1000, got -1. Fix: use 1 or more replicas (0 only to pause the set).",
  "fractional replicas":
    "StatefulDatabase 'test/db': replicas must be a whole number from 0 to 1000, got 2.5. Fix: use 1 or more replicas (0 only to pause the set).",
  "replicas as a string":
    "StatefulDatabase 'test/db': replicas must be a whole number from 0 to 1000, got '3'. Fix: use 1 or more replicas (0 only to pause the set).",
  "more than 1000 replicas":
    "StatefulDatabase 'test/db': replicas must be a whole number from 0 to 1000, got 1001. Fix: use 1 or more replicas (0 only to pause the set).",
  "a negative start ordinal":
    "StatefulDatabase 'test/db': startOrdinal must be a whole number from 0 to 1000000, got -1. Fix: use 0 unless you migrate ordinals.",
  "a negative partition":
    "StatefulDatabase 'test/db': updateStrategy partition must be a whole number from 0 to 0, got -1. Fix: use a partition from 0 (update all) up to the highest ordinal, 0.",
  "port 0":
    "StatefulDatabase 'test/db': port 'pg' must be a whole number from 1 to 65535, got 0. Fix: use a port number from 1 to 65535.",
  "port 65536":
    "StatefulDatabase 'test/db': port 'pg' must be a whole number from 1 to 65535, got 65536. Fix: use a port number from 1 to 65535.",
  "a fractional port":
    "StatefulDatabase 'test/db': port 'pg' must be a whole number from 1 to 65535, got 5432.5. Fix: use a port number from 1 to 65535.",
  "two ports with one number":
    "StatefulDatabase 'test/db': ports has port 5432/TCP twice. Fix: give each port a distinct name and number.",
  "two ports with one name":
    "StatefulDatabase 'test/db': ports has name pg twice. Fix: give each port a distinct name and number.",
  "an engine without ports":
    "StatefulDatabase 'test/db': the engine has no ports. Fix: give the engine at least one port.",
  "only peer ports with a client Service":
    "StatefulDatabase 'test/db': clientService is on but every port is a peer port. Fix: mark a client port peer: false, or set clientService: false.",
  "a headless Service without ports":
    "HeadlessService 'test/h': ports is empty: a Service needs at least one port. Fix: e.g. [{ name: 'web', port: 80 }].",
  "a probe on a port the container does not expose":
    "StatefulDatabase 'test/db': livenessProbe targets port 3306, which the container does not expose (ports: 5432). Fix: probe one of the engine's ports.",
  "a pool with fewer volumes than replicas":
    "NfsPersistentVolumePool 'test/pool': ordinal 2 of StatefulSet 'db' (claim template 'data', requested 1Gi, ReadWriteOnce) would be left without a volume: every volume of the pool is reserved for another claim. Fix: give the pool at least 3 volumes (it has 2), or lower the replicas.",
  "a claim larger than the pool volumes":
    "NfsPersistentVolumePool 'test/pool': ordinal 0 of StatefulSet 'db' (claim template 'data', requested 5Gi, ReadWriteOnce) would be left without a volume: it is reserved to pool-0, but volume pool-0 holds 1Gi, the claim requests 5Gi. Fix: make the claims fit the pool (at most 1Gi, access modes ReadWriteOnce, class 'pool'), or change the pool.",
  "a claim asking ReadWriteMany of a ReadWriteOnce pool":
    "NfsPersistentVolumePool 'test/pool': ordinal 0 of StatefulSet 'db' (claim template 'data', requested 1Gi, ReadWriteMany) would be left without a volume: volume pool-0 does not offer access mode ReadWriteMany (it offers ReadWriteOnce). Fix: make the claims fit the pool (at most 1Gi, access modes ReadWriteOnce, class 'pool'), or change the pool.",
  "a pool shared by two sets with too few volumes":
    "NfsPersistentVolumePool 'test/pool': ordinal 1 of StatefulSet 'b' (claim template 'data', requested 1Gi, ReadWriteOnce) would be left without a volume: every volume of the pool is reserved for another claim. Fix: give the pool at least 4 volumes (it has 3), or lower the replicas.",
  "a pool of zero volumes":
    "NfsPersistentVolumePool 'test/pool': volumes must be a whole number from 1 to 10000, got 0. Fix: give the number of volumes, e.g. volumes: 3.",
  "storage on a pool and a class at once":
    "StatefulDatabase 'test/db': storage gives both pool and storageClass. Fix: keep one: a pool for static volumes, a class for dynamic provisioning.",
  "an empty access mode list":
    "StatefulDatabase 'test/db': accessModes is empty. Fix: e.g. [AccessMode.READ_WRITE_ONCE].",
  "an unknown access mode":
    "StatefulDatabase 'test/db': accessModes has an unknown mode 'ReadWriteAll'. Fix: use one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod.",
  "ReadWriteOncePod on NFS":
    "NfsPersistentVolumePool 'test/pool': accessModes includes 'ReadWriteOncePod', which only CSI volumes support, not NFS. Fix: use ReadWriteOnce or ReadWriteMany.",
  "a Recycle pool":
    "NfsPersistentVolumePool 'test/pool': reclaimPolicy 'Recycle' is refused: it runs 'rm -rf' on the volume when its claim is deleted (and is deprecated). Fix: use ReclaimPolicy.RETAIN and clean up released volumes yourself.",
  "a Delete pool":
    "NfsPersistentVolumePool 'test/pool': reclaimPolicy 'Delete' is refused: a static NFS volume has no deleter, so the volume ends up 'Failed' when its claim is deleted. Fix: use ReclaimPolicy.RETAIN.",
  "an unknown reclaim policy on a StorageClass":
    "StorageClass 'test/x': reclaimPolicy must be Retain or Delete, got 'Archive'. Fix: use ReclaimPolicy.RETAIN.",
  "an unknown claim retention":
    "StatefulDatabase 'test/db': claimRetentionWhenScaled must be Retain or Delete, got 'Keep'. Fix: use ClaimRetention.RETAIN.",
  "an unknown pod management policy":
    "StatefulDatabase 'test/db': podManagementPolicy must be OrderedReady or Parallel, got 'Sequential'. Fix: use PodManagementPolicy.ORDERED_READY.",
  "an unknown anti-affinity":
    "StatefulDatabase 'test/db': antiAffinity must be preferred, required or none, got 'soft'. Fix: use AntiAffinity.PREFERRED.",
  "maxUnavailable 0, which blocks every drain":
    "StatefulDatabase 'test/db': maxUnavailable must be a whole number from 1 to 3, got 0. Fix: allow at least 1 disruption (0 blocks every node drain) and at most the replica count.",
  "maxUnavailable above the replica count":
    "StatefulDatabase 'test/db': maxUnavailable must be a whole number from 1 to 3, got 4. Fix: allow at least 1 disruption (0 blocks every node drain) and at most the replica count.",
  "maxUnavailable that breaks quorum":
    "StatefulDatabase 'test/db': maxUnavailable 3 would let a drain break the quorum of 5 members (at most 2 may be down). Fix: omit maxUnavailable, or set it to 2 or less.",
  "two volumes at one path in the NFS export":
    "NfsPersistentVolumePool 'test/pool': path '/exports/a' appears twice: two volumes would share (and corrupt) one data directory. Fix: give each volume its own path.",
  "paths and basePath together":
    "NfsPersistentVolumePool 'test/pool': give either paths, or basePath with volumes, not both. Fix: drop paths, or drop basePath and volumes.",
  "an init container mounting an undeclared volume":
    "StatefulDatabase 'test/db': container 'init' mounts volume 'config', which does not exist (volumes: tmp, data). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.",
  "the database mounting an undeclared volume":
    "StatefulDatabase 'test/db': container 'main' mounts volume 'cache', which does not exist (volumes: tmp, data). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.",
  "two mounts at one path":
    "StatefulDatabase 'test/db': container 'main' mounts two volumes at '/x'. Fix: give each mount its own path.",
  "a relative mount path":
    "StatefulDatabase 'test/db': storage mountPath must be an absolute path without '..', spaces or ':', got 'data'. Fix: use a path such as '/var/lib/data'.",
  "a mount path with ..":
    "StatefulDatabase 'test/db': mount path of 'a' in container 'main' must be an absolute path without '..', spaces or ':', got '/var/../etc'. Fix: use a path such as '/var/lib/data'.",
  "a scratch volume named like the data claim":
    "StatefulDatabase 'test/db': volume name 'data' is used twice. Fix: give every claim template and scratch volume its own name.",
  "an extra claim without a mount path":
    "StatefulDatabase 'test/db': extraVolumeClaims[0] needs a name and a mountPath, got {\"name\":\"archive\"}. Fix: e.g. { name: 'archive', mountPath: '/archive', storageClass: slow }.",
  "an extra claim named like the data claim":
    "StatefulDatabase 'test/db': volume name 'data' is used twice. Fix: give every claim template and scratch volume its own name.",
  "an image without a tag":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'postgres'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:\u2026', so every replica runs the same build.",
  "an image tagged latest":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'postgres:latest'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:\u2026', so every replica runs the same build.",
  "an image with a registry port but no tag":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'registry.local:5000/postgres'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:\u2026', so every replica runs the same build.",
  "an init container image without a tag":
    "StatefulDatabase 'test/db': image of init container 'init' must name a pinned tag or digest (not 'latest'), got 'busybox'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:\u2026', so every replica runs the same build.",
  "an empty image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got ''. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:\u2026', so every replica runs the same build.",
  "an engine that runs as root":
    "StatefulDatabase 'test/db': engine runAsUser must be a whole number from 1 to 2147483647, got 0. Fix: run as a non-root user: the restricted Pod Security profile refuses UID 0 (for an image that needs root, build a non-root variant).",
  "a literal password":
    "StatefulDatabase 'test/db': the database container sets 'POSTGRES_PASSWORD' to a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file: e.g. POSTGRES_PASSWORD_FILE=/run/secrets/db/<key>.",
  "a literal API token in an init container":
    "StatefulDatabase 'test/db': init container 'init' sets 'API_TOKEN' to a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file: e.g. API_TOKEN_FILE=/run/secrets/db/<key>.",
  "an env value that is not an EnvValue":
    "StatefulDatabase 'test/db': the database container sets 'MODE' to \"primary\", which is not an EnvValue. Fix: use EnvValue.fromValue('\u2026'), or for a credential a *_FILE variable under StatefulDatabase.CREDENTIALS_PATH.",
  "an NFS server with a space":
    "NfsPersistentVolumePool 'test/pool': server must be a host name or IP address, got 'nfs server'. Fix: e.g. server: 'nfs.example.com'.",
  "a missing NFS server":
    "NfsPersistentVolumePool 'test/pool': server must be a host name or IP address, got undefined. Fix: e.g. server: 'nfs.example.com'.",
  "a relative NFS base path":
    "NfsPersistentVolumePool 'test/pool': basePath must be an absolute path without '..', spaces or ':', got 'exports'. Fix: use a path such as '/var/lib/data'.",
  "a missing NFS base path":
    "NfsPersistentVolumePool 'test/pool': basePath is required when paths is not given. Fix: e.g. basePath: '/data/k8s'.",
  "a probe that is not a HealthProbe":
    "StatefulDatabase 'test/db': readinessProbe must be a HealthProbe, got {\"tcpSocket\":{\"port\":5432}}. Fix: e.g. HealthProbe.tcp(5432).",
  "an empty headless Service selector":
    "HeadlessService 'test/h': selector is empty: the Service would select every pod of the namespace. Fix: give the labels of the StatefulSet's pods.",
  "an empty StorageClass provisioner":
    "StorageClass 'test/x': provisioner must be set, got ''. Fix: name the CSI driver, e.g. 'ebs.csi.aws.com'.",
  "an engine that is not a DatabaseEngine":
    "StatefulDatabase 'test/db': engine must be a DatabaseEngine, got object. Fix: e.g. engine: DatabaseEngine.custom({ image, ports }).",
  "a grace period that is not whole seconds":
    "StatefulDatabase 'test/db': terminationGracePeriod must be whole seconds, got 1500ms. Fix: e.g. Duration.seconds(5).",
  "a probe timeout that is not whole seconds":
    "StatefulDatabase 'test/db': readinessProbe timeout must be whole seconds, got 500ms. Fix: e.g. Duration.seconds(5).",
  "a probe failure threshold of 0":
    "StatefulDatabase 'test/db': livenessProbe failureThreshold must be a whole number from 1 to 100, got 0. Fix: use 1 or more consecutive failures.",
  "a headless Service named like the database":
    "Service 'test/db/Client': Service 'db' in namespace 'default' is also written by 'test/db/Headless/Resource': two objects of one kind, namespace and name overwrite each other when applied. Fix: give one of them another name (the construct's 'name' prop), or move it to another namespace.",
  "two databases with one name in one namespace":
    "Service 'test/orders-2/Headless/Resource': Service 'orders-headless' in namespace 'shop' is also written by 'test/orders/Headless/Resource': two objects of one kind, namespace and name overwrite each other when applied (and 4 more: StatefulSet 'orders' in namespace 'shop' by 'test/orders/Resource' and 'test/orders-2/Resource'; Service 'orders' in namespace 'shop' by 'test/orders/Client' and 'test/orders-2/Client'; NetworkPolicy 'orders' in namespace 'shop' by 'test/orders/Connections/Resource' and 'test/orders-2/Connections/Resource'; PodDisruptionBudget 'orders' in namespace 'shop' by 'test/orders/Budget' and 'test/orders-2/Budget'). Fix: give one of them another name (the construct's 'name' prop), or move it to another namespace.",
  "two databases with one name in two charts of one namespace":
    "Service 'b/orders/Headless/Resource': Service 'orders-headless' in namespace 'ns' is also written by 'a/orders/Headless/Resource': two objects of one kind, namespace and name overwrite each other when applied (and 4 more: StatefulSet 'orders' in namespace 'ns' by 'a/orders/Resource' and 'b/orders/Resource'; Service 'orders' in namespace 'ns' by 'a/orders/Client' and 'b/orders/Client'; NetworkPolicy 'orders' in namespace 'ns' by 'a/orders/Connections/Resource' and 'b/orders/Connections/Resource'; PodDisruptionBudget 'orders' in namespace 'ns' by 'a/orders/Budget' and 'b/orders/Budget'). Fix: give one of them another name (the construct's 'name' prop), or move it to another namespace.",
  "one pool id in two charts":
    "PersistentVolume 'b/nfs/Volume0': PersistentVolume 'nfs-0' is also written by 'a/nfs/Volume0': two objects of one kind and name overwrite each other when applied (and 1 more: PersistentVolume 'nfs-1' by 'a/nfs/Volume1' and 'b/nfs/Volume1'). Fix: give one of them another name (the construct's 'name' prop), or define it once and share it.",
  "a fast class for AWS in one chart and for GCE in another":
    "StorageClass 'b/fast/Resource': StorageClass 'fast' is also written by 'a/fast/Resource': two objects of one kind and name overwrite each other when applied. Fix: give one of them another name (the construct's 'name' prop), or define it once and share it.",
  "a CPU request above its limit":
    "StatefulDatabase 'test/db': resources: cpu request 2 is above its limit 500m: the API server refuses such a pod. Fix: lower the request, or give cpu.limit of at least 2.",
  "an init container that runs the server, with resources of its own":
    "StatefulDatabase 'test/db': init container 'copy' has runsServer and resources: a container that runs the server gets the database's resources. Fix: drop resources, or set runsServer to false.",
  "an init container memory request above its limit":
    "StatefulDatabase 'test/db': resources of init container 'init': memory request 256Mi is above its limit 128Mi: the API server refuses such a pod. Fix: lower the request, or give memory.limit of at least 256Mi.",
  "a CPU request as a string":
    "StatefulDatabase 'test/db': resources cpu.request must be a Cpu, got '500m'. Fix: e.g. Cpu.millis(500).",
  "a password flag in the engine args":
    "StatefulDatabase 'test/db': the args of the database container has the password flag '--requirepass' with a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "a password flag with = in the engine command":
    "StatefulDatabase 'test/db': the command of the database container has the password flag '--password' with a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "a URL with a password in an env value":
    "StatefulDatabase 'test/db': the database container sets 'DATABASE_URL' to a URL with a password (scheme://user:password@host): a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "redis-cli -a in a probe":
    "StatefulDatabase 'test/db': the command of readinessProbe has redis-cli's password flag '-a' with a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "mysql -p<password> in a shell probe":
    "StatefulDatabase 'test/db': the command of readinessProbe has the MySQL password flag '-p<password>' with a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "a password assignment in an init container script":
    "StatefulDatabase 'test/db': the command of init container 'init' has the assignment 'PGPASSWORD=' with a literal value: a credential would be written into the YAML in plain text. Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), pass credentials: { secret } and read the file at run time: e.g. \"$(cat /run/secrets/db/<key>)\" in a shell command.",
  "a referenced class name that is not a DNS subdomain":
    "StatefulDatabase 'test/db': storage storageClassName must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Premium_SSD'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "a claim under 125 GiB on an AWS st1 class":
    "StatefulDatabase 'test/db': storage size 100Gi is below the 125Gi that class 'slow' provisions at least (AWS st1/sc1 volumes start at 125 GiB): the claim would stay Pending. Fix: request at least 125Gi, or use another class.",
  "a claim under 125 GiB on an EBS sc1 class":
    "StatefulDatabase 'test/db': extraVolumeClaims[0] size 10Gi is below the 125Gi that class 'cold' provisions at least (AWS st1/sc1 volumes start at 125 GiB): the claim would stay Pending. Fix: request at least 125Gi, or use another class.",
  "podDnsName of an ordinal below startOrdinal":
    "StatefulDatabase 'test/db': podDnsName got ordinal 0, but the set's ordinals are 1 to 3. Fix: ask for an ordinal of the set, e.g. podDnsName(1).",
  "podDnsName of a negative ordinal":
    "StatefulDatabase 'test/db': podDnsName got ordinal -3, but the set's ordinals are 0 to 2. Fix: ask for an ordinal of the set, e.g. podDnsName(0).",
  "podDnsName of an ordinal past the last replica":
    "StatefulDatabase 'test/db': podDnsName got ordinal 3, but the set's ordinals are 0 to 2. Fix: ask for an ordinal of the set, e.g. podDnsName(0).",
  "podDnsName of a set with 0 replicas":
    "StatefulDatabase 'test/db': podDnsName got ordinal 0, but the set's ordinals are none: it has 0 replicas. Fix: give the set replicas first.",
  "claimNames of an unknown template":
    "StatefulDatabase 'test/db': claimNames got template 'logs', which the set does not have (its claim templates: data). Fix: use one of them.",
  "a headless Service pod name of a negative ordinal":
    "HeadlessService 'test/h': ordinal must be a whole number from 0 to 2147483647, got -1. Fix: use a pod ordinal: a whole number from 0.",
  "a partition beyond the highest ordinal":
    "StatefulDatabase 'test/db': updateStrategy partition must be a whole number from 0 to 2, got 3. Fix: use a partition from 0 (update all) up to the highest ordinal, 2.",
  "a database named by a mixed-case construct id":
    "StatefulDatabase 'test/OrdersDB': name (taken from the construct id, as no name was given) must be a DNS-1123 label of at most 52 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'OrdersDB'. Fix: pass name: 'ordersdb', or use a lower-case construct id.",
  "a pool named by a capitalised construct id with an underscore":
    "NfsPersistentVolumePool 'test/Web_Pool': name (taken from the construct id, as no name was given) must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Web_Pool'. Fix: pass name: 'web-pool', or use a lower-case construct id.",
  "NaN replicas":
    "StatefulDatabase 'test/db': replicas must be a whole number from 0 to 1000, got NaN. Fix: use 1 or more replicas (0 only to pause the set).",
  "an even quorum in strict mode":
    "StatefulDatabase 'test/zk': 4 members form a quorum of 3: they survive no more failures than 3 would, and a network split in half stops both sides. Fix: use an odd replica count, e.g. 5. (a warning, refused in strict mode: SynthChecks.strict(app) or CDK8S_STATEFUL_STRICT=true)",
  "a pod label that would change the selector":
    "StatefulDatabase 'test/db': podLabels sets 'app.kubernetes.io/instance', which the library sets itself (it selects the pods). Fix: use a label key of your own.",
  "a pod annotation with a space in its key":
    "StatefulDatabase 'test/db': podAnnotations has an invalid key 'my note' (keys are [prefix/]name: a DNS subdomain, '/', then at most 63 alphanumerics, '-', '_' or '.'). Fix: e.g. 'prometheus.io/scrape'.",
  "a nodeSelector value with a space":
    "StatefulDatabase 'test/db': nodeSelector has an invalid label 'disk': 'fast ssd' (keys are [prefix/]name, values at most 63 alphanumerics, '-', '_' or '.'). Fix: e.g. { 'storage': 'pv' }.",
  "a toleration value without a key":
    "StatefulDatabase 'test/db': tolerations[0] gives a value without a key. Fix: give the taint's key too, or neither to tolerate every taint.",
  "a toleration evictAfter without NoExecute":
    "StatefulDatabase 'test/db': tolerations[0] gives evictAfter with effect 'NoSchedule': only NoExecute taints evict. Fix: set effect: TaintEffect.NO_EXECUTE, or drop evictAfter.",
  "an unknown toleration effect":
    "StatefulDatabase 'test/db': tolerations[0] effect must be one of NoSchedule, PreferNoSchedule, NoExecute, got 'Never'. Fix: e.g. TaintEffect.NO_SCHEDULE.",
  "a priority class name with capitals":
    "StatefulDatabase 'test/db': priorityClassName must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'HighPriority'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "a service account given and created":
    "StatefulDatabase 'test/db': serviceAccountName 'sa' and createServiceAccount are both given. Fix: keep one: an existing account, or the one the database creates.",
  "an image registry with a scheme":
    "StatefulDatabase 'test/db': imageRegistry must be a registry host with an optional port and path, without scheme or tag, got 'https://mirror.example.com'. Fix: e.g. 'mirror.example.com' or 'harbor.example.com/dockerhub'.",
  "an ExternalName client Service":
    "StatefulDatabase 'test/db': clientServiceType must be ClusterIP, NodePort or LoadBalancer, got 'ExternalName'. Fix: e.g. ServiceType.LOAD_BALANCER for clients outside the cluster.",
  "a client Service type without a client Service":
    "StatefulDatabase 'test/db': clientServiceType or clientServiceAnnotations is given, but clientService is false. Fix: drop them, or turn the client Service on.",
  "maxUnavailable with the budget off":
    "StatefulDatabase 'test/db': maxUnavailable is given, but podDisruptionBudget is false. Fix: drop maxUnavailable, or keep the budget.",
  "a startup probe on a port the container does not expose":
    "StatefulDatabase 'test/db': startupProbe targets port 8080, which the container does not expose (ports: 5432). Fix: probe one of the engine's ports.",
  "a DNS egress cidr and labels together":
    "StatefulDatabase 'test/db': dnsEgress gives a cidr and labels. Fix: keep one: the cidr of a node-local DNS cache, or the labels of the DNS pods.",
  "a DNS egress cidr that is not one":
    "StatefulDatabase 'test/db': dnsEgress cidr must be an IPv4 CIDR, got '169.254.20.10'. Fix: e.g. '169.254.20.10/32'.",
  "a DNS egress port of 0":
    "StatefulDatabase 'test/db': dnsEgress port must be a whole number from 1 to 65535, got 0. Fix: use a port number from 1 to 65535.",
  "clients from an address range that is not a CIDR":
    "Connections 'test/db/Connections': allowFromCidr must be an IPv4 CIDR, got '10.0.0.0/33'. Fix: e.g. '203.0.113.0/24', or '0.0.0.0/0' for anyone.",
  "a new headless Service name for a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.serviceName from 'db-headless' to 'peers': the API server refuses it (422 Unprocessable Entity: a StatefulSet's spec may change only in replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds). Fix: keep 'db-headless', or replace the set without touching its pods: set changeApprovals: { orphanDelete: true } on the database, run `kubectl -n ns delete statefulset db --cascade=orphan` right before the apply (pods and claims keep running, the new set adopts them), then apply.",
  "a smaller claim on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.volumeClaimTemplates[data].spec.resources.requests.storage from '10Gi' to '5Gi': a claim never shrinks (the API server refuses it with 422: the request may not be less than the previous value, and a claim template may not change at all). Fix: keep '10Gi'. To really use less, move the data to a claim template of a new name (a new set, or orphanDelete) and copy it over.",
  "a larger claim on a class the app does not own":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.volumeClaimTemplates[data].spec.resources.requests.storage from '10Gi' to '20Gi': StorageClass 'gp2' is not part of this app, so synth cannot tell whether it allows expansion; the API server refuses the larger request (403 Forbidden) if it does not. Fix: keep '10Gi', or, if the class allows expansion, say so: ChangeGuard.attach(app, { expandableClasses: ['gp2'] }).",
  "a ZooKeeper ensemble shrunk from 5 to 2 members at once":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.replicas from 5 to 2: the members that stay (2 of 5) are not a majority of the ensemble they leave: a member that fails mid-change takes the quorum with it, and the rest stop serving. Fix: change replicas in steps: 5 → 3 → 2; after each apply wait until every member is Ready (`kubectl -n ns rollout status statefulset db`) before the next.",
  "a ZooKeeper ensemble shrunk from 2 members to 1":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.replicas from 2 to 1: a ZooKeeper ensemble of 2 members cannot drop to 1 by itself: the member that stays is not a majority, so no leader is left to remove the one that goes. Fix: keep at least 2 members, or first remove the member with `reconfig -remove` as a superuser (docs/engines.md, ZooKeeper), then change replicas.",
  "a PostgreSQL major upgrade without the upgrade prop":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.template.spec.containers[main].image from 'postgres:16.6' to 'postgres:17.2': PostgreSQL 17 does not start on a data directory of PostgreSQL 16 (\"database files are incompatible with server\"): every member would crash-loop on its old data. Fix: keep 'postgres:16.6', or, once the data is migrated (pg_upgrade, or dump and restore), set changeApprovals: { majorVersionUpgrade: true } on the database.",
  "claim retention switched to Delete on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.persistentVolumeClaimRetentionPolicy.whenDeleted from 'Retain' to 'Delete': the StatefulSet controller will then delete the claims when the set is deleted, and with a Delete reclaim policy the volumes and their data. Fix: keep Retain, or, if losing those claims is intended, say so: set changeApprovals: { claimDeletion: true } on the database.",
  "clients that are a Service, not a workload":
    "Connections 'test/db/Connections': allowFrom got the construct 'test/db/Headless', which is not a pod selector (it has no toPodSelectorConfig()). Fix: pass a cdk8s-plus workload (Deployment, StatefulSet, ...), Pods.select(...) or a StatefulDatabase, or name the pods by label with allowFromLabels(...).",
  "clients whose selector is plain labels, not a cdk8s-plus LabelSelector":
    "Connections 'test/db/Connections': allowFrom got the construct 'test/db', whose selector {\"app\":\"api\"} is not a cdk8s-plus LabelSelector. Fix: pass a cdk8s-plus workload (Deployment, StatefulSet, ...), Pods.select(...) or a StatefulDatabase, or name the pods by label with allowFromLabels(...).",
  "a ConfigMap as the credentials Secret":
    "StatefulDatabase 'test/db': credentials.secret must be a cdk8s-plus Secret, got a ConfigMap named 'db-config'. Fix: pass a Secret of your cdk8s-plus, e.g. Secret.fromSecretName(chart, 'creds', 'db-credentials').",
  "a credentials Secret name with capitals":
    "StatefulDatabase 'test/db': credentials.secret name must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'DB_Credentials'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "a Deployment as an image pull Secret":
    "StatefulDatabase 'test/db': imagePullSecrets[0] must be a cdk8s-plus Secret, got a Deployment named 'test-api'. Fix: pass a Secret of your cdk8s-plus, e.g. Secret.fromSecretName(chart, 'creds', 'db-credentials').",
  "metrics on a custom engine":
    "StatefulDatabase 'test/db': metrics has no exporter for engine 'custom': metrics come with the presets (postgresql, mysql, mariadb-galera, redis, zookeeper). Fix: leave metrics out and run your engine's exporter yourself, or use a preset.",
  "an exporter image for ZooKeeper":
    "StatefulDatabase 'test/db': metrics.exporterImage is set, got 'example/zk-exporter:1.0.0', but zookeeper serves its own metrics (no exporter sidecar). Fix: leave exporterImage out.",
  "an exporter image without a tag":
    "StatefulDatabase 'test/db': metrics.exporterImage must name a pinned tag or digest (not 'latest'), got 'oliver006/redis_exporter'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "a monitoring password key with a slash":
    "StatefulDatabase 'test/db': metrics.passwordKey must be a Secret key (letters, digits, '-', '_' or '.'), got 'monitoring/password'. Fix: e.g. 'monitoring-password'.",
  "the Redis admin password as the monitoring password":
    "StatefulDatabase 'test/db': metrics.passwordKey is 'password', the key of the Redis admin password (requirepass): the exporter must not hold it. Fix: give the monitoring user keys of its own, e.g. 'monitoring-username' and 'monitoring-password' (the defaults), and add them to the Secret.",
  "a scraper by address range and labels at once":
    "StatefulDatabase 'test/db': metrics.scraper has both cidr and labels: the scraper is either an address range or pods. Fix: give cidr, or podLabels and namespaceLabels.",
  "a scraper address range that is no CIDR":
    "StatefulDatabase 'test/db': metrics.scraper.cidr must be an IPv4 CIDR, got '10.0.0.0'. Fix: e.g. '10.0.0.0/8'.",
  "a volume alert at 100 percent":
    "StatefulDatabase 'test/db': metrics.alertThresholds.volumeUsedPercent must be a whole number from 1 to 99, got 100. Fix: use a percentage from 1 to 99, e.g. 80.",
  "a replication lag threshold of zero":
    "StatefulDatabase 'test/db': metrics.alertThresholds.replicationLag must be at least 1s, got 0s. Fix: e.g. Duration.seconds(30), the default.",
  "a failover window shorter than a minute":
    "StatefulDatabase 'test/db': metrics.alertThresholds.failoverWindow must be at least 1m, got 30s. Fix: e.g. Duration.seconds(900), the default.",
  "a backup CronJob name with capitals":
    "StatefulDatabase 'test/db': metrics.backup.cronJobName must be a DNS-1123 subdomain of at most 253 characters (lower-case letters, digits, '-' and '.'), got 'Nightly'. Fix: use a name such as 'fast' or 'nfs-web-0'.",
  "a Prometheus label with a space":
    "StatefulDatabase 'test/db': metrics.prometheusLabels has an invalid label 'release': 'kube prometheus' (keys are [prefix/]name, values at most 63 alphanumerics, '-', '_' or '.'). Fix: e.g. { 'storage': 'pv' }.",
  "a scrape annotation also in podAnnotations":
    "StatefulDatabase 'test/db': podAnnotations sets 'prometheus.io/scrape', which metrics sets for its scrape annotations. Fix: leave it out of podAnnotations, or pass metrics: { scrapeAnnotations: false }.",
  "an exporter memory request above its limit":
    "StatefulDatabase 'test/db': metrics.exporterResources: memory request 256Mi is above its limit 128Mi: the API server refuses such a pod. Fix: lower the request, or give memory.limit of at least 256Mi.",
  "a deployed streaming PostgreSQL set switched to Patroni":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.template.spec.containers[main].command from 'primary decided by the first ordinal' to 'primary decided by Patroni': Patroni did not initialize these data directories and holds no initialize key for them: the first member to take its leader lock, a replica as likely as the primary, would lead, and the others would follow a history they may not share. Fix: keep the layout the set was created with, and move the data into a new set of the other layout (docs/engines.md, \"Moving a PostgreSQL set to Patroni\": a new set under another name, pg_dump | pg_restore or logical replication, then the clients).",
  "a deployed Patroni PostgreSQL set switched back to streaming":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db spec.template.spec.containers[main].command from 'primary decided by Patroni' to 'primary decided by the first ordinal': the streaming layout makes the first ordinal the primary, whichever member Patroni promoted last: the set would follow a member that may lag behind, and the others would carry a timeline it never saw. Fix: keep the layout the set was created with, and move the data into a new set of the other layout (docs/engines.md, \"Moving a PostgreSQL set to Patroni\": a new set under another name, pg_dump | pg_restore or logical replication, then the clients).",
  "backups turned off on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup (WAL archiving, scheduled full backups) from 'on' to 'off': from the apply on, the server archives no WAL and no full backup is taken: nothing written after the apply can be restored, and point-in-time recovery ends at the apply. Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.",
  "fewer full backups kept on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup.retainFullBackups from 7 to 2: after the next full backup, pgBackRest expires all but the newest 2 and the WAL older than the oldest one kept: the restore points before it no longer exist, and point-in-time recovery reaches back 2 full backups instead of 7. Fix: keep 7, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.",
  "Patroni with the official postgres image":
    "DatabaseEngine.postgresql 'test/db': patroni got the official image 'postgres:18.4', which has no Patroni. Fix: build an image with PostgreSQL and Patroni 4 (FROM postgres:<version>, then apt-get install patroni; docs/engines.md, 'PostgreSQL with Patroni'), push it, and pass it pinned: patroni: { image: 'registry.example.com/postgres-patroni:18.4-4.1.5' }.",
  "Patroni with the official image by its full name":
    "DatabaseEngine.postgresql 'test/db': patroni got the official image 'docker.io/library/postgres:18.4', which has no Patroni. Fix: build an image with PostgreSQL and Patroni 4 (FROM postgres:<version>, then apt-get install patroni; docs/engines.md, 'PostgreSQL with Patroni'), push it, and pass it pinned: patroni: { image: 'registry.example.com/postgres-patroni:18.4-4.1.5' }.",
  "Patroni without an image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got ''. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "Patroni with an unpinned image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'registry.example.com/postgres-patroni'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "Patroni with an unknown durability":
    "DatabaseEngine.postgresql 'test/db': patroni durability must be synchronous or asynchronous, got \"eventual\". Fix: use PostgresDurability.SYNCHRONOUS.",
  "Patroni with an API server CIDR that is not one":
    "StatefulDatabase 'test/db': apiServerCidrs must be an IPv4 CIDR, got '10.0.0.1'. Fix: e.g. '10.0.0.10/32', the API server's endpoint address.",
  "Patroni with no API server port":
    "StatefulDatabase 'test/db': apiServerCidrs and apiServerPorts must each be a list of at least one, got [\"0.0.0.0/0\"] and []. Fix: omit them for any address on ports 443 and 6443.",
  "Patroni with an API server port out of range":
    "StatefulDatabase 'test/db': apiServerPorts must be a whole number from 1 to 65535, got 70000. Fix: use a port number from 1 to 65535.",
  "Patroni without credentials":
    "DatabaseEngine.postgresql 'test/db': the database has no credentials: Patroni needs a superuser password and the replicas a replication password. Fix: pass credentials: { secret: Secret.fromSecretName(chart, 'creds', 'my-credentials') } (create it with 'kubectl create secret generic my-credentials --from-literal=root-password=…').",
  "MySQL Group Replication with an unpinned API client image":
    "DatabaseEngine.mysql 'test/db': groupReplication apiClientImage must be a pinned image with sh and curl, got \"curlimages/curl\". Fix: e.g. 'docker.io/curlimages/curl:8.14.1'.",
  "MySQL Group Replication with an allowlist entry that is not a CIDR":
    "DatabaseEngine.mysql 'test/db': groupReplication ipAllowlist has \"10.244.0.0\", which is not an IPv4 CIDR. Fix: e.g. '10.244.0.0/16'.",
  "MySQL Group Replication with an empty allowlist":
    "DatabaseEngine.mysql 'test/db': groupReplication ipAllowlist must list the pod network's CIDRs, got []. Fix: e.g. ['10.244.0.0/16'], or leave it out for the private ranges.",
  "MySQL Group Replication with a negative expel timeout":
    "DatabaseEngine.mysql 'test/db': groupReplication memberExpelTimeoutSeconds must be a whole number from 0 to 3600, got -1. Fix: leave it out for 0 (expel once suspected).",
  "MySQL Group Replication with the group seeds in config":
    "DatabaseEngine.mysql 'test/db': config sets 'group_replication_group_seeds', which the preset manages itself. Fix: remove it from config (typed options: innodb_buffer_pool_size, max_connections).",
  "MySQL Group Replication on MySQL 8.0.26":
    "DatabaseEngine.mysql 'test/db': version 8.0.26 is older than 8.0.27, which the preset needs (Group Replication with START GROUP_REPLICATION USER/PASSWORD, the clone threshold and the XCom stack). Fix: use 8.0.27 or newer, or DatabaseEngine.custom() for an older image.",
  "MySQL Group Replication as null":
    "DatabaseEngine.mysql 'test/db': groupReplication must be an object, got null. Fix: groupReplication: {} for the defaults.",
  "a backup schedule with six fields":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"0 30 2 * * *\", which has 6 field(s); a cron schedule has 5 (minute hour day-of-month month day-of-week). Fix: e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a backup schedule at minute 60":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"60 * * * *\": its minute field '60' is outside 0-59 or an empty range. Fix: numbers 0-59, '*', ranges 'a-b' and steps '/n', e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a backup schedule with a day name":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"0 2 * * MON\": its day of week field 'MON' is not a number, range, step or *. Fix: numbers 0-7, '*', ranges 'a-b' and steps '/n', e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a backup schedule macro":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"@daily\", which has 1 field(s); a cron schedule has 5 (minute hour day-of-month month day-of-week). Fix: e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a backup schedule with a step of 0":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"*/0 * * * *\": its minute field '*/0' has a step of 0. Fix: numbers 0-59, '*', ranges 'a-b' and steps '/n', e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a backup schedule that never runs":
    "DatabaseEngine.postgresql 'test/db': backup.schedule got \"0 2 30 2 *\", which never runs (no such day). Fix: e.g. '30 2 * * *' (02:30 every day).",
  "a backup age alert without backups":
    "StatefulDatabase 'test/db': metrics.alertThresholds.backupAge is set, but the engine takes no backups of its own. Fix: leave it out, or give the engine its backups (e.g. DatabaseEngine.postgresql({ backup })).",
  "a backup age alert under 10 minutes":
    "StatefulDatabase 'test/db': metrics.alertThresholds.backupAge must be at least 10m, got 5m. Fix: e.g. Duration.seconds(172800), the default.",
  "a backup without a pgBackRest image":
    "DatabaseEngine.postgresql 'test/db': backup.image got undefined: backups and restores run pgBackRest, which the official postgres image lacks. Fix: an image with PostgreSQL and pgBackRest (docs/engines.md, Backups), e.g. image: 'registry.example.com/postgres-pgbackrest:18.6'.",
  "a backup with an unpinned image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'registry.example.com/postgres-pgbackrest'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "a backup endpoint with a scheme":
    "DatabaseEngine.postgresql 'test/db': backup.repository.endpoint got \"https://s3.example.com\": give the host name and optional port only (backups go over HTTPS). Fix: e.g. 's3.example.com' or 'store.backup.svc:7070'.",
  "a backup bucket with capitals":
    "DatabaseEngine.postgresql 'test/db': backup.repository.bucket must be a bucket name (3 to 63 lower-case letters, digits, '.' and '-'), got \"Backups\". Fix: e.g. 'backups'.",
  "a backup repository path without a leading slash":
    "DatabaseEngine.postgresql 'test/db': backup.repository.path must be an absolute path of names (letters, digits, '.', '_' and '-'), got \"prod/pg\". Fix: e.g. '/prod/orders'.",
  "a backup repository without a region":
    "DatabaseEngine.postgresql 'test/db': backup.repository.region must be a region name (lower-case letters, digits and '-'), got undefined. Fix: e.g. 'us-east-1'.",
  "a backup access key name with a slash":
    "DatabaseEngine.postgresql 'test/db': backup.repository.accessKeyIdKey must be a key of the credentials Secret (letters, digits, '-', '_' and '.'), got \"s3/key\". Fix: name the key as it is in the Secret, e.g. 's3-access-key-id'.",
  "backups read from an unknown member":
    "DatabaseEngine.postgresql 'test/db': backup.member got \"standby\". Fix: BackupMember.REPLICA (a healthy replica's files) or BackupMember.PRIMARY, or leave it out.",
  "a backup retention of no full backup":
    "DatabaseEngine.postgresql 'test/db': backup.retainFullBackups must be a whole number from 1 to 100, got 0. Fix: e.g. backup.retainFullBackups: 100.",
  "an archive queue under 16 MiB":
    "DatabaseEngine.postgresql 'test/db': backup.archiveQueueMax must be a Size of at least 16384 KiB in whole KiB, got 8192 KiB. Fix: e.g. backup.archiveQueueMax: Size.mebibytes(256).",
  "an archive timeout of 5 seconds":
    "DatabaseEngine.postgresql 'test/db': backup.archiveTimeout must be a whole number of seconds from 10 to 3600, got 5 seconds. Fix: e.g. Duration.minutes(1).",
  "archive_command in the config of a set with backups":
    "DatabaseEngine.postgresql 'test/db': config sets 'archive_command', which the preset manages itself. Fix: remove it from config (typed options: shared_buffers, max_connections).",
  "backups with Patroni in another image than Patroni's":
    "DatabaseEngine.postgresql 'test/db': backup.image \"registry.example.com/postgres-pgbackrest:18.6-2.60.0\" differs from patroni.image \"registry.example.com/postgres-patroni:18.4-4.1.5\": with patroni one image runs every container, the server archiving and restoring with pgBackRest and Patroni leading it. Fix: build one image with PostgreSQL, Patroni and pgBackRest (docs/engines.md, 'Backups with Patroni') and pass it as both patroni.image and backup.image.",
  "a Patroni restore in another image than Patroni's":
    "DatabaseEngine.postgresql 'test/db': restoreFrom.image \"registry.example.com/postgres-pgbackrest:18.6-2.60.0\" differs from patroni.image \"registry.example.com/postgres-patroni:18.4-4.1.5\": with patroni one image runs every container, the server archiving and restoring with pgBackRest and Patroni leading it. Fix: leave restoreFrom.image out: the restore runs patroni.image, which needs pgBackRest too (docs/engines.md, 'Backups with Patroni').",
  "Patroni backups from an unknown member":
    "DatabaseEngine.postgresql 'test/db': backup.member got \"standby\". Fix: BackupMember.REPLICA (a healthy replica's files) or BackupMember.PRIMARY, or leave it out.",
  "backups without credentials":
    "DatabaseEngine.postgresql 'test/db': the database has no credentials: the image needs a superuser password and the replicas a replication password. Fix: pass credentials: { secret: Secret.fromSecretName(chart, 'creds', 'my-credentials') } (create it with 'kubectl create secret generic my-credentials --from-literal=root-password=…').",
  "a restore to a point in time without a zone":
    "DatabaseEngine.postgresql 'test/db': restoreFrom.pointInTime got \"2026-03-01 12:00:00\", which is not a real date and time as an ISO 8601 timestamp with its zone. Fix: e.g. '2026-03-01T12:00:00Z' (UTC) or '2026-03-01T13:00:00+01:00'.",
  "a restore to a date that does not exist":
    "DatabaseEngine.postgresql 'test/db': restoreFrom.pointInTime got \"2026-02-30T12:00:00Z\", which is not a real date and time as an ISO 8601 timestamp with its zone. Fix: e.g. '2026-03-01T12:00:00Z' (UTC) or '2026-03-01T13:00:00+01:00'.",
  "a restore without a pgBackRest image":
    "DatabaseEngine.postgresql 'test/db': restoreFrom.image got undefined: backups and restores run pgBackRest, which the official postgres image lacks. Fix: an image with PostgreSQL and pgBackRest (docs/engines.md, Backups), e.g. image: 'registry.example.com/postgres-pgbackrest:18.6'.",
  "a restore whose backups go to the repository it comes from":
    "DatabaseEngine.postgresql 'test/db': backup.repository and restoreFrom.repository are the same directory (backups/prod/pg): the restored set would archive into the backups it came from. Fix: give the new set's backup its own path, e.g. '/prod/pg-restored'.",
  "a restore with another image than the backups":
    "DatabaseEngine.postgresql 'test/db': restoreFrom.image \"registry.example.com/other:1.0\" differs from backup.image \"registry.example.com/postgres-pgbackrest:18.6-2.60.0\": one image runs every container. Fix: leave restoreFrom.image out.",
  "Galera with wsrepSyncWait out of range":
    "DatabaseEngine.mariadbGalera 'test/db': wsrepSyncWait must be a whole number from 0 to 15 (1 reads, 2 UPDATE and DELETE, 4 INSERT and REPLACE, 8 SHOW, added up), got 16. Fix: wsrepSyncWait: 1 for reads that see every write committed before them.",
  "Galera with an unpinned API client image":
    "DatabaseEngine.mariadbGalera 'test/db': apiClientImage must be a pinned image with sh and curl, got \"curlimages/curl\". Fix: e.g. 'docker.io/curlimages/curl:8.14.1'.",
  "Galera with the durability setting in config":
    "DatabaseEngine.mariadbGalera 'test/db': config sets 'innodb_flush_log_at_trx_commit', which the preset manages itself. Fix: remove it from config (typed options: innodb_buffer_pool_size, max_connections).",
  "Redis Sentinel with 2 members":
    "DatabaseEngine.redis 'test/db': sentinel needs at least 3 members, got replicas: 2: the Sentinels must be a majority to promote a replica, and with 2 members one lost stops every failover. Fix: replicas: 3 or more, or drop sentinel (the first member is then the primary, without failover).",
  "Redis Sentinel with a replica lag as long as down-after":
    "DatabaseEngine.redis 'test/db': sentinel.minReplicasMaxLag must be whole seconds shorter than downAfter (3000 ms), got 3000 ms: a master cut off from its replicas must stop taking writes before the Sentinels promote another. Fix: e.g. minReplicasMaxLag: Duration.seconds(2).",
  "Redis Sentinel with a replica lag in milliseconds":
    "DatabaseEngine.redis 'test/db': sentinel.minReplicasMaxLag must be whole seconds shorter than downAfter (5000 ms), got 1500 ms: a master cut off from its replicas must stop taking writes before the Sentinels promote another. Fix: e.g. minReplicasMaxLag: Duration.seconds(2).",
  "Redis Sentinel writing only with more replicas than there are":
    "DatabaseEngine.redis 'test/db': sentinel.minReplicasToWrite must be a whole number from 0 to 2 (the replicas of 3 members), got 3. Fix: e.g. minReplicasToWrite: 1.",
  "Redis Sentinel with down-after under a second":
    "DatabaseEngine.redis 'test/db': sentinel.downAfter must be a Duration from 1 s to 600 s, got 500 ms. Fix: e.g. downAfter: Duration.seconds(5).",
  "Redis Sentinel with down-after as a number":
    "DatabaseEngine.redis 'test/db': sentinel.downAfter must be a Duration from 1 s to 600 s, got 5000. Fix: e.g. downAfter: Duration.seconds(5).",
  "Redis Sentinel with an unpinned API client image":
    "StatefulDatabase 'test/db': image of init container 'founded' must name a pinned tag or digest (not 'latest'), got 'curlimages/curl'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "Redis snapshots without an rclone image":
    "DatabaseEngine.redis 'test/db': backup.image got undefined: snapshots and restores upload and download with rclone, which the official redis image lacks. Fix: an image with Redis and rclone (docs/engines.md, Redis backups), e.g. image: 'registry.example.com/redis-rclone:8.2.1'.",
  "Redis snapshots with the official redis image":
    "DatabaseEngine.redis 'test/db': backup.image got \"redis:8.2.1\", the official redis image, which has no rclone. Fix: an image with Redis and rclone (docs/engines.md, Redis backups), e.g. image: 'registry.example.com/redis-rclone:8.2.1'.",
  "Redis snapshots with an unpinned image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'registry.example.com/redis-rclone:latest'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "a WAL archive alert on Redis snapshots":
    "StatefulDatabase 'test/db': metrics.alertThresholds.walArchiveAge is set, got 30m, but the engine archives no WAL (only PostgreSQL with backup does, and MySQL and MariaDB Galera with backup.binlogArchiveInterval, their binary log). Fix: leave walArchiveAge out.",
  "a Redis snapshot schedule with a day name":
    "DatabaseEngine.redis 'test/db': backup.schedule got \"0 2 * * MON\": its day of week field 'MON' is not a number, range, step or *. Fix: numbers 0-7, '*', ranges 'a-b' and steps '/n', e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "a Redis snapshot schedule that never runs":
    "DatabaseEngine.redis 'test/db': backup.schedule got \"0 2 31 4 *\", which never runs (no such day). Fix: e.g. '30 2 * * *' (02:30 every day).",
  "Redis snapshots keeping none":
    "DatabaseEngine.redis 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 0. Fix: e.g. backup.retainBackups: 100.",
  "Redis snapshots keeping 1001":
    "DatabaseEngine.redis 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 1001. Fix: e.g. backup.retainBackups: 100.",
  "Redis snapshots keeping a fraction":
    "DatabaseEngine.redis 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 2.5. Fix: e.g. backup.retainBackups: 100.",
  "Redis snapshots read from an unknown member":
    "DatabaseEngine.redis 'test/db': backup.member got \"secondary\". Fix: BackupMember.REPLICA (the default) or BackupMember.PRIMARY.",
  "a Redis snapshot endpoint with a scheme":
    "DatabaseEngine.redis 'test/db': backup.repository.endpoint got \"https://s3.example.com\": give the host name and optional port only (backups go over HTTPS). Fix: e.g. 's3.example.com' or 'store.backup.svc:7070'.",
  "Redis snapshots without credentials":
    "DatabaseEngine.redis 'test/db': the database has no credentials: without requirepass any pod that reaches the Service can read and write every key. Fix: pass credentials: { secret: Secret.fromSecretName(chart, 'creds', 'my-credentials') } (create it with 'kubectl create secret generic my-credentials --from-literal=root-password=…').",
  "a Redis restore without an rclone image":
    "DatabaseEngine.redis 'test/db': restoreFrom.image got undefined: snapshots and restores upload and download with rclone, which the official redis image lacks. Fix: an image with Redis and rclone (docs/engines.md, Redis backups), e.g. image: 'registry.example.com/redis-rclone:8.2.1'.",
  "a Redis restore of a snapshot named by a path":
    "DatabaseEngine.redis 'test/db': restoreFrom.backup must name a snapshot object of the repository (its UTC time, as the sidecar names it), got \"backups/20260301T023000Z.rdb\". Fix: e.g. '20260301T023000Z.rdb' (list them with 'rclone lsf'), or leave it out for the latest.",
  "a Redis restore whose snapshots go to the repository it comes from":
    "DatabaseEngine.redis 'test/db': backup.repository and restoreFrom.repository are the same directory (backups/prod/pg): the restored set would mix its snapshots with those it came from. Fix: give the new set's backup its own path, e.g. '/prod/pg-restored'.",
  "a Redis restore with another image than the snapshots":
    "DatabaseEngine.redis 'test/db': restoreFrom.image \"registry.example.com/other:1.0\" differs from backup.image \"registry.example.com/redis-rclone:8.2.1-1.60.1\": one image runs every container. Fix: leave restoreFrom.image out.",
  "restoreFrom added to a deployed Redis set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db restoreFrom from 'none' to 's3://s3.example.com/backups/prod/pg': the set is deployed: its members hold data or are creating it, and a member restores only into a new set whose volume is empty, so the restore would never run. Fix: leave restoreFrom out of the deployed set; to restore, create a new set (another name or namespace) with restoreFrom and move the clients to it (docs/engines.md, the restore drill).",
  "Galera backups without an rclone image":
    "DatabaseEngine.mariadbGalera 'test/db': backup.image got undefined: backups and restores upload and download with rclone, which the official mariadb image lacks. Fix: an image with MariaDB and rclone (docs/engines.md, MariaDB Galera backups), e.g. image: 'registry.example.com/mariadb-rclone:11.8.3'.",
  "Galera backups with the official mariadb image":
    "DatabaseEngine.mariadbGalera 'test/db': backup.image got \"docker.io/library/mariadb:11.8.3\", the official mariadb image, which has no rclone. Fix: an image with MariaDB and rclone (docs/engines.md, MariaDB Galera backups), e.g. image: 'registry.example.com/mariadb-rclone:11.8.3'.",
  "a Galera backup schedule with six fields":
    "DatabaseEngine.mariadbGalera 'test/db': backup.schedule got \"0 30 2 * * *\", which has 6 field(s); a cron schedule has 5 (minute hour day-of-month month day-of-week). Fix: e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "Galera backups keeping none":
    "DatabaseEngine.mariadbGalera 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 0. Fix: e.g. backup.retainBackups: 100.",
  "a Galera backup repository path without a slash":
    "DatabaseEngine.mariadbGalera 'test/db': backup.repository.path must be an absolute path of names (letters, digits, '.', '_' and '-'), got \"prod/galera\". Fix: e.g. '/prod/orders'.",
  "a Galera restore of an RDB snapshot":
    "DatabaseEngine.mariadbGalera 'test/db': restoreFrom.backup must name a backup object of the repository (its UTC time, as the sidecar names it), got \"20260301T023000Z.rdb\". Fix: e.g. '20260301T023000Z.mbstream' (list them with 'rclone lsf'), or leave it out for the latest.",
  "a Galera restore whose backups go to the repository it comes from":
    "DatabaseEngine.mariadbGalera 'test/db': backup.repository and restoreFrom.repository are the same directory (backups/prod/pg): the restored set would mix its backups with those it came from. Fix: give the new set's backup its own path, e.g. '/prod/pg-restored'.",
  "a Galera restore with another image than the backups":
    "DatabaseEngine.mariadbGalera 'test/db': restoreFrom.image \"registry.example.com/other:1.0\" differs from backup.image \"registry.example.com/mariadb-rclone:11.8.3-1.60.1\": one image runs every container. Fix: leave restoreFrom.image out.",
  "fewer Galera backups kept on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup.retainBackups from 14 to 7: after the next backup, all but the newest 7 are deleted from the repository: the restore points before them no longer exist. Fix: keep 14, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.",
  "ZooKeeper backups without an rclone image":
    "DatabaseEngine.zookeeper 'test/db': backup.image got undefined: backups and restores upload and download with rclone, which the official zookeeper image lacks. Fix: an image with ZooKeeper and rclone (docs/engines.md, ZooKeeper backups), e.g. image: 'registry.example.com/zookeeper-rclone:3.9.5'.",
  "ZooKeeper backups with the official zookeeper image":
    "DatabaseEngine.zookeeper 'test/db': backup.image got \"zookeeper:3.9.5\", the official zookeeper image, which has no rclone. Fix: an image with ZooKeeper and rclone (docs/engines.md, ZooKeeper backups), e.g. image: 'registry.example.com/zookeeper-rclone:3.9.5'.",
  "ZooKeeper backups without a credentials Secret":
    "DatabaseEngine.zookeeper 'test/db': backup.repository needs the S3 keys from the credentials Secret, but the database has none. Fix: pass credentials: { secret } holding 's3-access-key-id' and 's3-secret-access-key' (or the keys the repository names).",
  "ZooKeeper backups keeping none":
    "DatabaseEngine.zookeeper 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 0. Fix: e.g. backup.retainBackups: 100.",
  "a ZooKeeper restore of a backup named without its zxid":
    "DatabaseEngine.zookeeper 'test/db': restoreFrom.backup must name a backup object of the repository (its UTC time, as the sidecar names it), got \"20260301T023000Z.tar\". Fix: e.g. '20260301T023000Z-zxid-100000a2f.tar' (list them with 'rclone lsf'), or leave it out for the latest.",
  "ZooKeeper backups turned off on a deployed ensemble":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup (scheduled backups) from 'on' to 'off': from the apply on, no backup is taken: nothing written after the apply can be restored. Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.",
  "a ZooKeeper restore whose backups go to the repository it comes from":
    "DatabaseEngine.zookeeper 'test/db': backup.repository and restoreFrom.repository are the same directory (backups/prod/pg): the restored set would mix its backups with those it came from. Fix: give the new set's backup its own path, e.g. '/prod/pg-restored'.",
  "Galera backups turned off on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup (scheduled backups) from 'on' to 'off': from the apply on, no backup is taken: nothing written after the apply can be restored. Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.",
  "restoreFrom added to a deployed Galera set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db restoreFrom from 'none' to 's3://s3.example.com/backups/prod/pg': the set is deployed: its members hold data or are creating it, and a member restores only into a new set whose volume is empty, so the restore would never run. Fix: leave restoreFrom out of the deployed set; to restore, create a new set (another name or namespace) with restoreFrom and move the clients to it (docs/engines.md, the restore drill).",
  "fewer Redis snapshots kept on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup.retainBackups from 48 to 24: after the next snapshot, all but the newest 24 are deleted from the repository: the restore points before them no longer exist. Fix: keep 48, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.",
  "Redis snapshots turned off on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup (scheduled snapshots) from 'on' to 'off': from the apply on, no snapshot is taken: nothing written after the apply can be restored. Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.",
  "a MySQL binary log archive every 5 seconds":
    "DatabaseEngine.mysql 'test/db': backup.binlogArchiveInterval must be a whole number of seconds from 10 to 3600, got 5 seconds: it bounds what a restore to a point in time can miss. Fix: e.g. Duration.minutes(1).",
  "a MySQL binary log archive every 2 hours":
    "DatabaseEngine.mysql 'test/db': backup.binlogArchiveInterval must be a whole number of seconds from 10 to 3600, got 7200 seconds: it bounds what a restore to a point in time can miss. Fix: e.g. Duration.minutes(1).",
  "a MySQL binary log archive interval as a number":
    "DatabaseEngine.mysql 'test/db': backup.binlogArchiveInterval must be a whole number of seconds from 10 to 3600, got 60 (not a Duration): it bounds what a restore to a point in time can miss. Fix: e.g. Duration.minutes(1).",
  "a MySQL restore to a point in time without a zone":
    "DatabaseEngine.mysql 'test/db': restoreFrom.pointInTime got \"2026-03-01 12:00:00\", which is not a real date and time as an ISO 8601 timestamp with its zone. Fix: e.g. '2026-03-01T12:00:00Z' (UTC) or '2026-03-01T13:00:00+01:00'.",
  "a MySQL restore to a point in time and a named backup":
    "DatabaseEngine.mysql 'test/db': restoreFrom.pointInTime (\"2026-03-01T12:00:00Z\") and restoreFrom.backup (\"20260301T023000Z.tar\") are both set: a restore to a point in time starts from the newest backup that had ended before it. Fix: leave restoreFrom.backup out.",
  "a Redis restore to a point in time":
    "DatabaseEngine.redis 'test/db': restoreFrom.pointInTime is set, got \"2026-03-01T12:00:00Z\", but snapshots of this preset restore to their own moment only. Fix: leave pointInTime out.",
  "MySQL backups with the official mysql image":
    "DatabaseEngine.mysql 'test/db': backup.image got \"mysql:9.7.4\", the official mysql image, which has no rclone. Fix: an image with MySQL and rclone (docs/engines.md, MySQL backups), e.g. image: 'registry.example.com/mysql-rclone:9.7.4'.",
  "MySQL backups with an unpinned image":
    "StatefulDatabase 'test/db': engine image must name a pinned tag or digest (not 'latest'), got 'registry.example.com/mysql-rclone:latest'. Fix: pin it, e.g. 'mysql:8.4.3' or 'repo/name@sha256:…', so every replica runs the same build.",
  "a MySQL backup schedule out of range":
    "DatabaseEngine.mysql 'test/db': backup.schedule got \"61 2 * * *\": its minute field '61' is outside 0-59 or an empty range. Fix: numbers 0-59, '*', ranges 'a-b' and steps '/n', e.g. '30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours).",
  "MySQL backups keeping 1001":
    "DatabaseEngine.mysql 'test/db': backup.retainBackups must be a whole number from 1 to 1000, got 1001. Fix: e.g. backup.retainBackups: 100.",
  "a MySQL restore of a mariadb-backup stream":
    "DatabaseEngine.mysql 'test/db': restoreFrom.backup must name a backup object of the repository (its UTC time, as the sidecar names it), got \"20260301T023000Z.mbstream\". Fix: e.g. '20260301T023000Z.tar' (list them with 'rclone lsf'), or leave it out for the latest.",
  "a MySQL restore without an rclone image":
    "DatabaseEngine.mysql 'test/db': restoreFrom.image got undefined: backups and restores upload and download with rclone, which the official mysql image lacks. Fix: an image with MySQL and rclone (docs/engines.md, MySQL backups), e.g. image: 'registry.example.com/mysql-rclone:9.7.4'.",
  "MySQL backups with Group Replication":
    "DatabaseEngine.mysql 'test/db': backup is not available with groupReplication (got both): backups and restores are for the primary/replicas preset. Fix: leave groupReplication out for a set with backup, or leave backup out of the group.",
  "restoreFrom added to a deployed MySQL set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db restoreFrom from 'none' to 's3://s3.example.com/backups/prod/pg': the set is deployed: its members hold data or are creating it, and a member restores only into a new set whose volume is empty, so the restore would never run. Fix: leave restoreFrom out of the deployed set; to restore, create a new set (another name or namespace) with restoreFrom and move the clients to it (docs/engines.md, the restore drill).",
  "MySQL backups turned off on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup (scheduled backups) from 'on' to 'off': from the apply on, no backup is taken: nothing written after the apply can be restored. Fix: keep backup, or, if ending backups is intended, set changeApprovals: { backupReduction: true } on the database.",
  "the MySQL binary log archive turned off on a deployed set":
    "StatefulDatabase 'test/db': refuses to change StatefulSet ns/db backup.binlogArchiveInterval from '60s' to 'off': from the apply on, the binary log is no longer archived: a restore reaches only the backups' own moments, and restores to a point in time end at the apply. Fix: keep backup.binlogArchiveInterval, or, if ending the archive is intended, set changeApprovals: { backupReduction: true } on the database.",
  "a MySQL restore with Group Replication":
    "DatabaseEngine.mysql 'test/db': restoreFrom is not available with groupReplication (got both): backups and restores are for the primary/replicas preset. Fix: leave groupReplication out for a set with restoreFrom, or leave restoreFrom out of the group.",
};
