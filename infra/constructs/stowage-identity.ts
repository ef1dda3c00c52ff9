import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ROLES } from '../../shared/domain/model.js';
import { acknowledge } from './nag-acknowledgements.js';

export interface StowageIdentityProps {
  readonly removalPolicy: RemovalPolicy;
  /** @default - a Cognito user pool (or `existingUserPool`) with an app client */
  readonly jwtIssuer?: string;
  /** @default - the app client id */
  readonly jwtAudience?: string[];
  /** @default 'tenant_id' with `jwtIssuer`, 'custom:tenant_id' with Cognito */
  readonly tenantClaim?: string;
  /** @default 'roles' with `jwtIssuer`, 'cognito:groups' with Cognito */
  readonly rolesClaim?: string;
  /** @default - a user pool is created */
  readonly existingUserPool?: cognito.IUserPool;
  /** @default - none */
  readonly userPoolProps?: Partial<cognito.UserPoolProps>;
  /** @default - no OAuth flows */
  readonly callbackUrls?: string[];
  /** @default - none */
  readonly logoutUrls?: string[];
}

/**
 * Who may call the API: an outside OIDC issuer, or a Cognito user pool (created, or yours) with
 * an app client that allows only what the service uses (SRP sign-in and refresh; the
 * authorization code grant only when callback URLs are given).
 */
export class StowageIdentity extends Construct {
  public readonly userPool?: cognito.IUserPool;
  public readonly userPoolClient?: cognito.UserPoolClient;
  public readonly jwtIssuer: string;
  public readonly jwtAudience: string[];
  public readonly tenantClaim: string;
  public readonly rolesClaim: string;

  constructor(scope: Construct, id: string, props: StowageIdentityProps) {
    super(scope, id);
    if ((props.jwtIssuer === undefined) !== (props.jwtAudience === undefined))
      throw new Error(
        'StowageService: give jwtIssuer and jwtAudience together, or neither to create a Cognito user pool.',
      );
    if (props.jwtAudience?.length === 0)
      throw new Error('StowageService: jwtAudience needs at least one value.');
    if (props.jwtIssuer && (props.existingUserPool || props.userPoolProps))
      throw new Error(
        'StowageService: jwtIssuer replaces the user pool; drop existingUserPool/userPoolProps.',
      );
    if (props.logoutUrls && !props.callbackUrls)
      throw new Error('StowageService: logoutUrls need callbackUrls (the OAuth code grant).');
    if (props.jwtIssuer && props.jwtAudience) {
      this.jwtIssuer = props.jwtIssuer;
      this.jwtAudience = props.jwtAudience;
      this.tenantClaim = props.tenantClaim ?? 'tenant_id';
      this.rolesClaim = props.rolesClaim ?? 'roles';
      return;
    }
    const pool = props.existingUserPool ?? this.createUserPool(props);
    this.userPool = pool;
    this.userPoolClient = new cognito.UserPoolClient(this, 'ApiClient', {
      userPool: pool,
      // SRP only (refresh comes with it): no password in clear, no admin or custom flows.
      authFlows: { userSrp: true },
      ...(props.callbackUrls
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
              callbackUrls: props.callbackUrls,
              logoutUrls: props.logoutUrls,
            },
          }
        : // CDK's default would allow the implicit grant to https://example.com.
          { disableOAuth: true }),
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes('tenant_id'),
      // The tenant is set by an administrator (AdminCreateUser), never by the user.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });
    this.jwtAudience = props.jwtAudience ?? [this.userPoolClient.userPoolClientId];
    this.jwtIssuer =
      pool instanceof cognito.UserPool
        ? pool.userPoolProviderUrl
        : // The pool's own region: one imported by ARN may live in another region than the stack.
          `https://cognito-idp.${pool.env.region}.${Stack.of(this).urlSuffix}/${pool.userPoolId}`;
    // Cognito puts custom attributes and groups into ID tokens: clients send the ID token.
    this.tenantClaim = props.tenantClaim ?? 'custom:tenant_id';
    this.rolesClaim = props.rolesClaim ?? 'cognito:groups';
  }

  private createUserPool(props: StowageIdentityProps): cognito.UserPool {
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      // A changed address is used only once its code is confirmed: until then sign-in and
      // recovery keep the verified one.
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        tenant_id: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: !destroy,
      removalPolicy: props.removalPolicy,
      ...props.userPoolProps,
    });
    acknowledge(
      pool,
      'AwsSolutions-COG8',
      'Essentials tier: the Plus tier bills every monthly active user; choose it per deployment.',
    );
    for (const role of ROLES) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: pool.userPoolId,
        groupName: role,
        description: `Stowage role ${role} (API.md section 1), sent in cognito:groups`,
      });
    }
    return pool;
  }
}
