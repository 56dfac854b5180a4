"""What every stage reads and writes through: `paths` names inputs (files, folders, globs,
URLs, lists of them), `storage` opens local paths or fsspec URLs and publishes outputs,
`staging` holds temporary outputs under a lock and removes what killed runs left."""
