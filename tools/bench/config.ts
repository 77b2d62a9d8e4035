// Generated `yours` configs for the benchmark: N partners, each with one instance,
// with encryption and the archive on so every policy document is measured.

/** Config overrides (as `pulumi config set --path` keys) for N partners. */
export function generatedConfig(partners: number): Record<string, unknown> {
    const list = Array.from({ length: partners }, (_, i) => {
        const accountId = String(100000000000 + i);
        return { name: `Partner_${i}`, accountId, osUser: `os_user_${i}`, principalArns: [`arn:aws:iam::${accountId}:role/3P_IAM_Assume_Role`] };
    });
    return {
        partners: list,
        instances: list.map((p, i) => ({ name: `instance-${i}`, partner: p.name })),
        "sessions.kmsEncryption": true,
        "sessions.s3Archive": true,
    };
}
