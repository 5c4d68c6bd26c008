//! Users: who someone is, and whose card another member may see.
//!
//! Users come from the organisation file (`import`); here they are only read. A card is seen
//! by its owner and by whoever shares a site with them: to anyone else, the user does not exist.

use copresence_core::{UserCard, UserId};

use super::{user_columns, user_from, Store, StoreError, FRESH};

impl Store {
    /// A user's card, if `viewer` may see it: themselves, or someone sharing a site with them.
    pub async fn user_visible_to(
        &self,
        viewer: UserId,
        user: UserId,
    ) -> Result<Option<UserCard>, StoreError> {
        let key = format!("visible:{viewer}:{user}");
        self.cache
            .get(key, FRESH, async {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users u WHERE u.id = $1 AND (u.id = $2 OR EXISTS (
                     SELECT 1 FROM memberships a JOIN memberships b ON a.site_id = b.site_id
                     WHERE a.user_id = $1 AND b.user_id = $2))"
                ))
                .bind(user)
                .bind(viewer)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| user_from(&r, 0)).transpose()?)
            })
            .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserCard>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| user_from(&r, 0)).transpose()?)
    }

    /// The user the directory signed in: created on their first sign-in, and their name,
    /// Teams account and photo made the directory's on every later one (the e-mail is who they
    /// are). Written only when something changed.
    pub async fn directory_user(&self, person: &DirectoryPerson) -> Result<UserCard, StoreError> {
        if let Some(known) = self.user_by_email(&person.email).await? {
            let same = known.name == person.name
                && known.teams == person.teams
                && known.photo == person.photo;
            if same {
                return Ok(known);
            }
        }
        sqlx::query(
            "INSERT INTO users (email, name, teams, photo, from_directory)
             VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (email) DO UPDATE
             SET name = excluded.name, teams = excluded.teams, photo = excluded.photo",
        )
        .bind(&person.email)
        .bind(&person.name)
        .bind(person.teams.clone())
        .bind(person.photo.clone())
        .execute(&self.pool)
        .await?;
        // Cards of this user held in memory (members' lists, cards) are now out of date.
        self.forget_cached();
        self.user_by_email(&person.email).await?.ok_or_else(|| {
            StoreError::Invalid(format!("{} vanished as they signed in", person.email))
        })
    }
}

/// Who the directory says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPerson {
    pub email: String,
    pub name: String,
    pub teams: Option<String>,
    pub photo: Option<String>,
}
